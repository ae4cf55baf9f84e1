import { useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { post } from '../../api/client.ts';
import { navigate, searchParam } from '../../app/router.tsx';
import { ErrorText } from '../../ui/kit.tsx';

/** The link of an invitation email: join the organization (creating an account when needed). */
export function AcceptInvitePage({ signedIn }: { signedIn: boolean }) {
  const client = useQueryClient();
  const token = searchParam('token') ?? '';
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<unknown>(null);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    try {
      await post(
        `/invitations/${encodeURIComponent(token)}/accept`,
        signedIn ? { cookie: true } : { name, password, cookie: true },
      );
      await client.resetQueries();
      navigate('/', { replace: true });
    } catch (err) {
      setError(err);
    }
  };
  return (
    <main className="auth">
      <form onSubmit={submit} aria-label="Accept invitation">
        <h1>Join the organization</h1>
        {!signedIn && (
          <>
            <p className="hint">
              New here? Choose your name and a password. Have an account? Sign in first, then open the link
              again.
            </p>
            <label>
              Your name
              <input required value={name} onChange={(e) => setName(e.target.value)} />
            </label>
            <label>
              Password
              <input
                type="password"
                autoComplete="new-password"
                required
                value={password}
                onChange={(e) => setPassword(e.target.value)}
              />
            </label>
          </>
        )}
        <ErrorText error={error} />
        <button type="submit">Accept invitation</button>
      </form>
    </main>
  );
}
