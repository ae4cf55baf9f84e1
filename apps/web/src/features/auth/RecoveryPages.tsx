import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Link, useSearch } from '@tanstack/react-router';
import { type FormEvent, useEffect, useRef, useState } from 'react';
import { call, sdk } from '../../api/client.ts';
import { Button } from '../../ui/button.tsx';
import { Field, Input } from '../../ui/form.tsx';
import { ErrorText } from '../../ui/page.tsx';
import { toast } from '../../ui/toast.tsx';
import { AuthCard, PasswordRule } from './AuthCard.tsx';

/** "Forgot password?": mails a reset link (the server answers the same whether the account exists). */
export function ForgotPasswordPage() {
  const [email, setEmail] = useState('');
  const send = useMutation({
    mutationFn: () => call(sdk.api.POST('/api/v1/auth/password-reset/request', { body: { email } })),
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    send.mutate();
  };
  return (
    <AuthCard title="Reset your password" label="Reset your password" onSubmit={submit}>
      {send.isSuccess ? (
        <p role="status" className="mb-3 text-sm">
          If an account has the address <strong>{email}</strong>, a link to choose a new password is on its
          way. It works for one hour.
        </p>
      ) : (
        <>
          <p className="mb-3 text-sm text-muted-foreground">
            Enter the email address of your account; we mail you a link to choose a new password.
          </p>
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
          <ErrorText error={send.error} />
          <Button type="submit" disabled={send.isPending}>
            Send reset link
          </Button>
        </>
      )}
      <p className="mt-4 text-sm">
        <Link to="/login">Back to sign in</Link>
      </p>
    </AuthCard>
  );
}

/** The mailed link `/reset-password?token=…`: choose a new password; every session is signed out. */
export function ResetPasswordPage() {
  const { token } = useSearch({ from: '/reset-password' });
  const [password, setPassword] = useState('');
  const [repeat, setRepeat] = useState('');
  const [mismatch, setMismatch] = useState(false);
  const reset = useMutation({
    mutationFn: () =>
      call(sdk.api.POST('/api/v1/auth/password-reset/confirm', { body: { token: token ?? '', password } })),
    onSuccess: () => toast.success('Password changed. Sign in with the new one.'),
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setMismatch(password !== repeat);
    if (password === repeat) reset.mutate();
  };
  if (!token) {
    return (
      <AuthCard title="Choose a new password" label="Choose a new password">
        <p className="text-sm" role="alert">
          This link has no token. Open the link from the mail again, or{' '}
          <Link to="/forgot-password">ask for a new one</Link>.
        </p>
      </AuthCard>
    );
  }
  return (
    <AuthCard title="Choose a new password" label="Choose a new password" onSubmit={submit}>
      {reset.isSuccess ? (
        <p role="status" className="text-sm">
          Your password is changed and every session of the account was signed out.{' '}
          <Link to="/login">Sign in</Link> with the new password.
        </p>
      ) : (
        <>
          <Field>
            New password
            <Input
              type="password"
              autoComplete="new-password"
              required
              aria-describedby="password-rule"
              value={password}
              onChange={(e) => setPassword(e.target.value)}
            />
          </Field>
          <PasswordRule />
          <Field>
            Repeat the new password
            <Input
              type="password"
              autoComplete="new-password"
              required
              value={repeat}
              onChange={(e) => setRepeat(e.target.value)}
            />
          </Field>
          {mismatch && <ErrorText error="The two passwords differ." />}
          <ErrorText error={reset.error} />
          <Button type="submit" disabled={reset.isPending}>
            Set new password
          </Button>
          <p className="mt-4 text-sm">
            Link expired? <Link to="/forgot-password">Ask for a new one</Link>
          </p>
        </>
      )}
    </AuthCard>
  );
}

/** The mailed link `/verify-email?token=…`: confirms the address as soon as it opens. */
export function VerifyEmailPage() {
  const { token } = useSearch({ from: '/verify-email' });
  const client = useQueryClient();
  const verify = useMutation({
    mutationFn: () => call(sdk.api.POST('/api/v1/auth/verify-email', { body: { token: token ?? '' } })),
    onSuccess: () => client.invalidateQueries({ queryKey: ['me'] }),
  });
  const sent = useRef(false);
  useEffect(() => {
    if (token && !sent.current) {
      sent.current = true;
      verify.mutate();
    }
  }, [token, verify]);
  const signedIn = !!client.getQueryData(['me']);
  return (
    <AuthCard title="Confirm your email address" label="Confirm your email address">
      {!token && (
        <p role="alert" className="text-sm">
          This link has no token: open the link from the mail again.
        </p>
      )}
      {verify.isPending && <p className="text-sm text-muted-foreground">Confirming…</p>}
      {verify.isSuccess && (
        <p role="status" className="text-sm">
          Your email address is confirmed.
        </p>
      )}
      <ErrorText error={verify.error} />
      <p className="mt-4 text-sm">
        {signedIn ? <Link to="/">Go to the studio</Link> : <Link to="/login">Sign in</Link>}
      </p>
    </AuthCard>
  );
}
