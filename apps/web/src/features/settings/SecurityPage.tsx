import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { call, sdk } from '../../api/client.ts';
import { useMe } from '../../app/session.tsx';
import { Button } from '../../ui/button.tsx';
import { Field, Input } from '../../ui/form.tsx';
import { ErrorText, PageHeader } from '../../ui/page.tsx';

/** Two-factor authentication: set up with an authenticator app (recovery codes shown once), or turn off. */
export default function SecurityPage() {
  const me = useMe();
  const client = useQueryClient();
  const enabled = me.user?.mfaEnabled ?? false;
  const [code, setCode] = useState('');
  const [password, setPassword] = useState('');
  const enrol = useMutation({ mutationFn: () => call(sdk.api.POST('/api/v1/auth/mfa/enrol')) });
  const activate = useMutation({
    mutationFn: () => call(sdk.api.POST('/api/v1/auth/mfa/activate', { body: { code: code.trim() } })),
    onSuccess: () => {
      setCode('');
      void client.invalidateQueries({ queryKey: ['me'] });
    },
  });
  const disable = useMutation({
    mutationFn: () =>
      call(sdk.api.POST('/api/v1/auth/mfa/disable', { body: { password, code: code.trim() } })),
    onSuccess: () => {
      setCode('');
      setPassword('');
      enrol.reset();
      activate.reset();
      void client.invalidateQueries({ queryKey: ['me'] });
    },
  });
  const secret = enrol.data ? new URL(enrol.data.otpauthUri).searchParams.get('secret') : null;
  const onActivate = (e: FormEvent) => {
    e.preventDefault();
    activate.mutate();
  };
  const onDisable = (e: FormEvent) => {
    e.preventDefault();
    disable.mutate();
  };
  return (
    <section>
      <PageHeader title="Security" />
      <div className="mb-4 max-w-2xl rounded-lg border bg-card p-4 shadow-xs">
        <h2>Two-factor authentication {enabled ? '(on)' : '(off)'}</h2>
        {activate.data && (
          <div
            className="mb-4 flex flex-wrap items-center gap-2.5 rounded-lg border border-warning/40 bg-warning/10 p-2.5 [&_code]:rounded [&_code]:bg-card [&_code]:px-1.5 [&_code]:py-1"
            role="status"
          >
            <p>
              <strong>Two-factor authentication is on.</strong> Keep these recovery codes somewhere safe: each
              signs you in once without your app. They are shown only now.
            </p>
            <pre data-testid="recovery-codes">{activate.data.recoveryCodes.join('\n')}</pre>
          </div>
        )}
        {!enabled && !enrol.data && (
          <>
            <p>Sign-in will also ask for a 6-digit code from an authenticator app.</p>
            <Button type="button" onClick={() => enrol.mutate()} disabled={enrol.isPending}>
              Set up two-factor authentication
            </Button>
          </>
        )}
        {!enabled && enrol.data && (
          <form onSubmit={onActivate} aria-label="Activate two-factor authentication">
            <p>Scan this with your authenticator app, then enter the code it shows.</p>
            <img
              src={enrol.data.qrCodeDataUrl}
              alt="QR code for your authenticator app"
              width={180}
              height={180}
            />
            <p className="text-xs font-normal text-muted-foreground">
              Can’t scan? Enter this key: <code data-testid="mfa-secret">{secret}</code>
            </p>
            <Field>
              Code from the app
              <Input
                inputMode="numeric"
                autoComplete="one-time-code"
                required
                value={code}
                onChange={(e) => setCode(e.target.value)}
              />
            </Field>
            <Button type="submit" disabled={activate.isPending}>
              Turn on
            </Button>
          </form>
        )}
        {enabled && !activate.data && (
          <form onSubmit={onDisable} aria-label="Turn off two-factor authentication">
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
            <Field>
              Code (or a recovery code)
              <Input required value={code} onChange={(e) => setCode(e.target.value)} />
            </Field>
            <Button type="submit" variant="destructive" disabled={disable.isPending}>
              Turn off two-factor authentication
            </Button>
          </form>
        )}
        <ErrorText error={enrol.error ?? activate.error ?? disable.error} />
      </div>
    </section>
  );
}
