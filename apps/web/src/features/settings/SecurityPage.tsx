import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { post } from '../../api/client.ts';
import type { MfaActivation, MfaEnrolment } from '../../api/types.ts';
import { useMe } from '../../app/session.tsx';
import { ErrorText, PageHeader } from '../../ui/kit.tsx';

/** Two-factor authentication: set up with an authenticator app (recovery codes shown once), or turn off. */
export default function SecurityPage() {
  const me = useMe();
  const client = useQueryClient();
  const enabled = me.user?.mfaEnabled ?? false;
  const [code, setCode] = useState('');
  const [password, setPassword] = useState('');
  const enrol = useMutation({ mutationFn: () => post<MfaEnrolment>('/auth/mfa/enrol') });
  const activate = useMutation({
    mutationFn: () => post<MfaActivation>('/auth/mfa/activate', { code: code.trim() }),
    onSuccess: () => {
      setCode('');
      void client.invalidateQueries({ queryKey: ['me'] });
    },
  });
  const disable = useMutation({
    mutationFn: () => post('/auth/mfa/disable', { password, code: code.trim() }),
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
      <div className="panel narrow">
        <h2>Two-factor authentication {enabled ? '(on)' : '(off)'}</h2>
        {activate.data && (
          <div className="secret" role="status">
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
            <button type="button" onClick={() => enrol.mutate()} disabled={enrol.isPending}>
              Set up two-factor authentication
            </button>
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
            <p className="hint">
              Can’t scan? Enter this key: <code data-testid="mfa-secret">{secret}</code>
            </p>
            <label>
              Code from the app
              <input
                inputMode="numeric"
                autoComplete="one-time-code"
                required
                value={code}
                onChange={(e) => setCode(e.target.value)}
              />
            </label>
            <button type="submit" disabled={activate.isPending}>
              Turn on
            </button>
          </form>
        )}
        {enabled && !activate.data && (
          <form onSubmit={onDisable} aria-label="Turn off two-factor authentication">
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
            <label>
              Code (or a recovery code)
              <input required value={code} onChange={(e) => setCode(e.target.value)} />
            </label>
            <button type="submit" className="danger" disabled={disable.isPending}>
              Turn off two-factor authentication
            </button>
          </form>
        )}
        <ErrorText error={enrol.error ?? activate.error ?? disable.error} />
      </div>
    </section>
  );
}
