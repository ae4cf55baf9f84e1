import { useQueryClient } from '@tanstack/react-query';
import { useNavigate, useSearch } from '@tanstack/react-router';
import { type FormEvent, useState } from 'react';
import { call, sdk } from '../../api/client.ts';
import { resetThenOpen } from '../../app/session.tsx';
import { Button } from '../../ui/button.tsx';
import { Field, Hint, Input } from '../../ui/form.tsx';
import { ErrorText } from '../../ui/page.tsx';
import { AuthCard } from './AuthCard.tsx';

/** The link of an invitation email: join the organization (creating an account when needed). */
export function AcceptInvitePage() {
  const client = useQueryClient();
  const navigate = useNavigate();
  const signedIn = !!client.getQueryData(['me']);
  const { token = '' } = useSearch({ from: '/accept-invite' });
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<unknown>(null);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    try {
      await call(
        sdk.api.POST('/api/v1/invitations/{token}/accept', {
          params: { path: { token } },
          body: signedIn ? { cookie: true } : { name, password, cookie: true },
        }),
      );
      await resetThenOpen(client, () => navigate({ to: '/', replace: true }));
    } catch (err) {
      setError(err);
    }
  };
  return (
    <AuthCard title="Join the organization" label="Accept invitation" onSubmit={submit}>
      {!signedIn && (
        <>
          <Hint className="mb-3">
            New here? Choose your name and a password. Have an account? Sign in first, then open the link
            again.
          </Hint>
          <Field>
            Your name
            <Input required value={name} onChange={(e) => setName(e.target.value)} />
          </Field>
          <Field>
            Password
            <Input
              type="password"
              autoComplete="new-password"
              required
              value={password}
              onChange={(e) => setPassword(e.target.value)}
            />
          </Field>
        </>
      )}
      <ErrorText error={error} />
      <Button type="submit">Accept invitation</Button>
    </AuthCard>
  );
}
