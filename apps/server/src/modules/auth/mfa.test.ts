import { queryRows } from '@aiops/db';
import { sql } from 'drizzle-orm';
import { Secret, TOTP } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, signUp, startTestServer, type TestServer } from '../../test-support.ts';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(() => s?.close());

const codeFor = (uri: string, offsetSeconds = 0) => {
  const secret = new URL(uri).searchParams.get('secret')!;
  return new TOTP({ secret: Secret.fromBase32(secret) }).generate({
    timestamp: Date.now() + offsetSeconds * 1000,
  });
};

describe('TOTP two-factor authentication', () => {
  it('enrols with an otpauth URI and QR code, activates with a code, then requires it at login', async () => {
    const u = await signUp(s);
    const enrol = await call(s, 'POST', '/api/v1/auth/mfa/enrol', { token: u.token });
    expect(enrol.status).toBe(200);
    expect(enrol.body.otpauthUri).toMatch(/^otpauth:\/\/totp\/AI%20Ops%20Studio:.+\?.*secret=[A-Z2-7]+/);
    expect(enrol.body.qrCodeDataUrl).toMatch(/^data:image\/png;base64,/);

    // Stored encrypted (AES-256-GCM under a key id), never in the clear.
    const secret = new URL(enrol.body.otpauthUri).searchParams.get('secret')!;
    const rows = await s.database.db.system((tx) =>
      queryRows<{ mfa_secret: string }>(tx, sql`SELECT mfa_secret FROM users WHERE id = ${u.userId}`),
    );
    const stored = rows[0]?.mfa_secret ?? '';
    expect(stored).toMatch(/^v1\.test\./);
    expect(stored).not.toContain(secret);

    const activationCode = codeFor(enrol.body.otpauthUri);
    const wrong = await call(s, 'POST', '/api/v1/auth/mfa/activate', {
      token: u.token,
      body: { code: '000000' },
    });
    expect(wrong.status).toBe(401);
    const act = await call(s, 'POST', '/api/v1/auth/mfa/activate', {
      token: u.token,
      body: { code: activationCode },
    });
    expect(act.status).toBe(200);
    expect(act.body.recoveryCodes).toHaveLength(10);

    const noCode = await call(s, 'POST', '/api/v1/auth/login', {
      body: { email: u.email, password: u.password },
    });
    expect(noCode.status).toBe(401);
    expect(noCode.body.error.code).toBe('mfa_required');
    const badCode = await call(s, 'POST', '/api/v1/auth/login', {
      body: { email: u.email, password: u.password, totp: '123456' },
    });
    expect(badCode.status).toBe(401);
    expect(badCode.body.error.code).toBe('invalid_mfa_code');
    // The activation code was used: the same code cannot sign in (no replay within its window).
    const replay = await call(s, 'POST', '/api/v1/auth/login', {
      body: { email: u.email, password: u.password, totp: activationCode },
    });
    expect(replay.status).toBe(401);
    expect(replay.body.error.code).toBe('invalid_mfa_code');
    // A code one step ahead (clock drift) is accepted, once.
    const next = codeFor(enrol.body.otpauthUri, 30);
    const ok = await call(s, 'POST', '/api/v1/auth/login', {
      body: { email: u.email, password: u.password, totp: next },
    });
    expect(ok.status).toBe(200);
    const again2 = await call(s, 'POST', '/api/v1/auth/login', {
      body: { email: u.email, password: u.password, totp: next },
    });
    expect(again2.status).toBe(401);

    // A recovery code works once.
    const recoveryCode = act.body.recoveryCodes[0];
    const rec = await call(s, 'POST', '/api/v1/auth/login', {
      body: { email: u.email, password: u.password, recoveryCode },
    });
    expect(rec.status).toBe(200);
    const again = await call(s, 'POST', '/api/v1/auth/login', {
      body: { email: u.email, password: u.password, recoveryCode },
    });
    expect(again.status).toBe(401);

    // Disabling needs the password and a code.
    const noPw = await call(s, 'POST', '/api/v1/auth/mfa/disable', {
      token: ok.body.token,
      body: { password: 'Wrong-password-1', code: codeFor(enrol.body.otpauthUri) },
    });
    expect(noPw.status).toBe(401);
    const off = await call(s, 'POST', '/api/v1/auth/mfa/disable', {
      token: ok.body.token,
      body: { password: u.password, code: act.body.recoveryCodes[1] },
    });
    expect(off.status).toBe(200);
    const plain = await call(s, 'POST', '/api/v1/auth/login', {
      body: { email: u.email, password: u.password },
    });
    expect(plain.status).toBe(200);
    expect(plain.body.user.mfaEnabled).toBe(false);
  });

  it('cannot activate before enrolling, nor enrol twice', async () => {
    const u = await signUp(s);
    const early = await call(s, 'POST', '/api/v1/auth/mfa/activate', {
      token: u.token,
      body: { code: '123456' },
    });
    expect(early.status).toBe(409);
    expect(early.body.error.code).toBe('mfa_not_enrolled');
    const e = await call(s, 'POST', '/api/v1/auth/mfa/enrol', { token: u.token });
    await call(s, 'POST', '/api/v1/auth/mfa/activate', {
      token: u.token,
      body: { code: codeFor(e.body.otpauthUri) },
    });
    expect((await call(s, 'POST', '/api/v1/auth/mfa/enrol', { token: u.token })).status).toBe(409);
  });
});
