import { useQueryClient } from '@tanstack/react-query';
import { Link, useNavigate, useSearch } from '@tanstack/react-router';
import { type FormEvent, useState } from 'react';
import { ApiError, call, sdk } from '../../api/client.ts';
import { resetThenOpen } from '../../app/session.tsx';
import { Button } from '../../ui/button.tsx';
import { Field, Input } from '../../ui/form.tsx';
import { ErrorText } from '../../ui/page.tsx';
import { AuthCard, PasswordRule } from './AuthCard.tsx';

function useSignedIn() {
  const client = useQueryClient();
  const navigate = useNavigate();
  const next = useSearch({ strict: false, select: (s) => ('next' in s ? s.next : undefined) });
  return async () => {
    const to = typeof next === 'string' && next.startsWith('/') && !next.startsWith('//') ? next : '/';
    await resetThenOpen(client, () => navigate({ href: to, replace: true }));
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
      await call(sdk.api.POST('/api/v1/auth/login', { body: { email, password, cookie: true, ...second } }));
      await done();
    } catch (err) {
      if (err instanceof ApiError && err.code === 'mfa_required') setNeedsCode(true);
      else setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <AuthCard title="Sign in to AI Ops Studio" label="Sign in" onSubmit={submit}>
      <Field>
        Email
        <Input
          type="email"
          autoComplete="email"
          required
          value={email}
          onChange={(e) => setEmail(e.target.value)}
        />
      </Field>
      <Field>
        Password
        <Input
          type="password"
          autoComplete="current-password"
          required
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
      </Field>
      <p className="-mt-1.5 mb-3 text-right text-sm">
        <Link to="/forgot-password">Forgot password?</Link>
      </p>
      {needsCode && (
        <Field>
          Authentication code (or a recovery code)
          <Input
            inputMode="numeric"
            autoComplete="one-time-code"
            required
            autoFocus
            value={totp}
            onChange={(e) => setTotp(e.target.value)}
          />
        </Field>
      )}
      <ErrorText error={error} />
      <Button type="submit" disabled={busy}>
        {needsCode ? 'Verify and sign in' : 'Sign in'}
      </Button>
      <p className="mt-4 text-sm">
        New here? <Link to="/signup">Create an account</Link>
      </p>
    </AuthCard>
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
      await call(sdk.api.POST('/api/v1/auth/signup', { body: { ...form, cookie: true } }));
      await done();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <AuthCard title="Create your AI Ops Studio account" label="Create an account" onSubmit={submit}>
      <Field>
        Your name
        <Input autoComplete="name" required value={form.name} onChange={set('name')} />
      </Field>
      <Field>
        Email
        <Input type="email" autoComplete="email" required value={form.email} onChange={set('email')} />
      </Field>
      <Field>
        Password
        <Input
          type="password"
          autoComplete="new-password"
          required
          aria-describedby="password-rule"
          value={form.password}
          onChange={set('password')}
        />
      </Field>
      <PasswordRule />
      <Field>
        Organization name
        <Input required value={form.organizationName} onChange={set('organizationName')} />
      </Field>
      <ErrorText error={error} />
      <Button type="submit" disabled={busy}>
        Create account
      </Button>
      <p className="mt-4 text-sm">
        Already have an account? <Link to="/login">Sign in</Link>
      </p>
    </AuthCard>
  );
}
