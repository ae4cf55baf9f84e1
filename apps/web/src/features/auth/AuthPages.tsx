import { useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { ApiError, post } from '../../api/client.ts';
import type { Session } from '../../api/types.ts';
import { Link, navigate } from '../../app/router.tsx';
import { ErrorText } from '../../ui/kit.tsx';

function useSignedIn() {
  const client = useQueryClient();
  return async () => {
    await client.resetQueries();
    const next = new URLSearchParams(window.location.search).get('next');
    navigate(next?.startsWith('/') && !next.startsWith('//') ? next : '/', { replace: true });
  };
}

/** Sign in; when the account has two-factor authentication the server asks for the code, then we do. */
export function LoginPage() {
  const done = useSignedIn();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [totp, setTotp] = useState('');
  const [needsCode, setNeedsCode] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const code = totp.trim();
      const second = !needsCode ? {} : /^\d{6}$/.test(code) ? { totp: code } : { recoveryCode: code };
      await post<Session>('/auth/login', { email, password, cookie: true, ...second });
      await done();
    } catch (err) {
      if (err instanceof ApiError && err.code === 'mfa_required') setNeedsCode(true);
      else setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="auth">
      <form onSubmit={submit} aria-label="Sign in">
        <h1>Sign in to AI Ops Studio</h1>
        <label>
          Email
          <input
            type="email"
            autoComplete="email"
            required
            value={email}
            onChange={(e) => setEmail(e.target.value)}
          />
        </label>
        <label>
          Password
          <input
            type="password"
            autoComplete="current-password"
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </label>
        {needsCode && (
          <label>
            Authentication code (or a recovery code)
            <input
              inputMode="numeric"
              autoComplete="one-time-code"
              required
              // biome-ignore lint/a11y/noAutofocus: the code step appears after the password; focus belongs here
              autoFocus
              value={totp}
              onChange={(e) => setTotp(e.target.value)}
            />
          </label>
        )}
        <ErrorText error={error} />
        <button type="submit" disabled={busy}>
          {needsCode ? 'Verify and sign in' : 'Sign in'}
        </button>
        <p>
          New here? <Link to="/signup">Create an account</Link>
        </p>
      </form>
    </main>
  );
}

export function SignupPage() {
  const done = useSignedIn();
  const [form, setForm] = useState({ name: '', email: '', password: '', organizationName: '' });
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const set = (k: keyof typeof form) => (e: { target: { value: string } }) =>
    setForm((f) => ({ ...f, [k]: e.target.value }));

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await post<Session>('/auth/signup', { ...form, cookie: true });
      await done();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="auth">
      <form onSubmit={submit} aria-label="Create an account">
        <h1>Create your AI Ops Studio account</h1>
        <label>
          Your name
          <input autoComplete="name" required value={form.name} onChange={set('name')} />
        </label>
        <label>
          Email
          <input type="email" autoComplete="email" required value={form.email} onChange={set('email')} />
        </label>
        <label>
          Password
          <input
            type="password"
            autoComplete="new-password"
            required
            value={form.password}
            onChange={set('password')}
          />
        </label>
        <label>
          Organization name
          <input required value={form.organizationName} onChange={set('organizationName')} />
        </label>
        <ErrorText error={error} />
        <button type="submit" disabled={busy}>
          Create account
        </button>
        <p>
          Already have an account? <Link to="/login">Sign in</Link>
        </p>
      </form>
    </main>
  );
}
