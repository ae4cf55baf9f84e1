import { queryRows } from '@aiops/db';
import { sql } from 'drizzle-orm';
import { Secret, TOTP } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MailCatcher, startMailCatcher } from '../test-mail.ts';
import { call, signUp, startTestServer, type TestServer } from '../test-support.ts';

/**
 * Every kind of secret the identity module handles goes through the API; none may appear in any log line
 * (debug level, all captured) and none but the one meant to be shown may appear in any response.
 */
let s: TestServer;
let mail: MailCatcher;
beforeAll(async () => {
  mail = await startMailCatcher();
  s = await startTestServer({ logLevel: 'debug', settings: { smtpUrl: mail.url } });
});
afterAll(async () => {
  await s?.close();
  await mail?.close();
});

describe('secrets never leak', () => {
  it('into any log line or any other response', async () => {
    const secrets: string[] = [];
    const responses: string[] = [];
    const track = async <T>(p: Promise<T>) => {
      const r = await p;
      responses.push(JSON.stringify(r));
      return r;
    };

    const u = await signUp(s);
    secrets.push(u.password, u.token, u.refreshToken);
    const evt = await mail.waitFor(u.email, /"token": "(evt_[\w-]+)"/);
    secrets.push(evt);
    await track(call(s, 'POST', '/api/v1/auth/verify-email', { body: { token: evt } }));

    // Sign-in answers carry their own new tokens by design: they are not scanned; every later answer is.
    const login = await call(s, 'POST', '/api/v1/auth/login', {
      body: { email: u.email, password: u.password },
    });
    secrets.push(login.body.token, login.body.refreshToken);
    const refreshed = await call(s, 'POST', '/api/v1/auth/refresh', {
      body: { refreshToken: login.body.refreshToken },
    });
    secrets.push(refreshed.body.token, refreshed.body.refreshToken);
    const t = refreshed.body.token as string;

    const key = await call(s, 'POST', '/api/v1/api-keys', {
      token: t,
      body: { name: 'k', scopes: ['organization:read', 'api_key:read', 'audit:read', 'member:read'] },
    });
    secrets.push(key.body.key);
    await track(call(s, 'GET', '/api/v1/api-keys', { token: key.body.key }));
    await track(call(s, 'GET', `/api/v1/api-keys/${key.body.apiKey.id}`, { token: t }));
    await track(call(s, 'GET', '/api/v1/me', { token: key.body.key }));
    // A secret in the URL is redacted before the URL is logged.
    await track(call(s, 'GET', `/api/v1/organization?probe=${key.body.key}`, { token: t }));

    await track(
      call(s, 'POST', '/api/v1/invitations', {
        token: t,
        body: { email: 'invitee@example.test', role: 'member' },
      }),
    );
    const inv = await mail.waitFor('invitee@example.test', /invitations\/(inv_[\w-]+)\/accept/);
    const password2 = 'Joiner-Passw0rd-9';
    secrets.push(inv, password2);
    const accepted = await call(s, 'POST', `/api/v1/invitations/${inv}/accept`, {
      body: { name: 'Invitee', password: password2 },
    });
    secrets.push(accepted.body.token, accepted.body.refreshToken);
    expect(accepted.status).toBe(200);

    const enrol = await call(s, 'POST', '/api/v1/auth/mfa/enrol', { token: t });
    const totpSecret = new URL(enrol.body.otpauthUri).searchParams.get('secret')!;
    secrets.push(totpSecret);
    const code = new TOTP({ secret: Secret.fromBase32(totpSecret) }).generate();
    const act = await call(s, 'POST', '/api/v1/auth/mfa/activate', { token: t, body: { code } });
    secrets.push(...act.body.recoveryCodes);

    await track(call(s, 'POST', '/api/v1/auth/password-reset/request', { body: { email: u.email } }));
    const prt = await mail.waitFor(u.email, /"token": "(prt_[\w-]+)"/);
    const password3 = 'Brand-New-Passw0rd-7';
    secrets.push(prt, password3);
    await track(
      call(s, 'POST', '/api/v1/auth/password-reset/confirm', { body: { token: prt, password: password3 } }),
    );
    await track(
      call(s, 'POST', '/api/v1/auth/login', {
        body: { email: u.email, password: 'Wrong-guess-42', totp: '123456' },
      }),
    );

    // What the database keeps instead of the secrets must not leak either.
    const stored = await s.database.db.system(async (tx) => [
      ...(await queryRows<{ v: string }>(
        tx,
        sql`SELECT password_hash AS v FROM users WHERE password_hash IS NOT NULL`,
      )),
      ...(await queryRows<{ v: string }>(
        tx,
        sql`SELECT mfa_secret AS v FROM users WHERE mfa_secret IS NOT NULL`,
      )),
      ...(await queryRows<{ v: string }>(tx, sql`SELECT key_hash AS v FROM api_keys`)),
      ...(await queryRows<{ v: string }>(tx, sql`SELECT refresh_token_hash AS v FROM sessions`)),
      ...(await queryRows<{ v: string }>(tx, sql`SELECT token_hash AS v FROM invitations`)),
      ...(await queryRows<{ v: string }>(tx, sql`SELECT token_hash AS v FROM user_tokens`)),
    ]);
    expect(stored.length).toBeGreaterThanOrEqual(8);

    const audit = await track(call(s, 'GET', '/api/v1/audit-logs?limit=500', { token: accepted.body.token }));
    expect(audit.status).toBe(403); // a member cannot read it; the owner's view is checked next
    const ownerLogin = await call(s, 'POST', '/api/v1/auth/login', {
      body: { email: u.email, password: password3, recoveryCode: act.body.recoveryCodes[0] },
    });
    const ownerAudit = await track(
      call(s, 'GET', '/api/v1/audit-logs?limit=500', { token: ownerLogin.body.token }),
    );
    expect(ownerAudit.body.data.length).toBeGreaterThan(10);

    // Every successful change above wrote its audit row (the server warns when one does not).
    expect(s.logs.filter((l) => l.includes('wrote no audit row'))).toEqual([]);
    const logs = s.logs.join('\n');
    expect(s.logs.length).toBeGreaterThan(30);
    const leakedToLogs = [...secrets, ...stored.map((r) => r.v)].filter((x) => logs.includes(x));
    expect(leakedToLogs).toEqual([]);
    const all = responses.join('\n');
    const leakedToResponses = [...secrets, ...stored.map((r) => r.v)].filter((x) => all.includes(x));
    expect(leakedToResponses).toEqual([]);
    // Personal data is masked in audit rows.
    expect(JSON.stringify(ownerAudit.body)).not.toContain(u.email);
    expect(JSON.stringify(ownerAudit.body)).not.toContain('invitee@example.test');
  });
});
