import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MailCatcher, startMailCatcher } from '../../test-mail.ts';
import { call, signUp, startTestServer, type TestServer } from '../../test-support.ts';

let s: TestServer;
let mail: MailCatcher;

beforeAll(async () => {
  mail = await startMailCatcher();
  s = await startTestServer({ settings: { smtpUrl: mail.url, publicUrl: 'http://studio.test' } });
});
afterAll(async () => {
  await s?.close();
  await mail?.close();
});

const STRONG = 'Tr0ub4dor&3-horse';

describe('sign-up', () => {
  it('creates a user, an organization and an owner membership, and mails a verification link', async () => {
    const r = await call(s, 'POST', '/api/v1/auth/signup', {
      body: { email: ' Ada@Example.TEST ', password: STRONG, name: 'Ada', organizationName: 'Analytical' },
    });
    expect(r.status).toBe(201);
    expect(r.body.user).toMatchObject({ email: 'ada@example.test', name: 'Ada', emailVerified: false });
    expect(r.body.organization).toMatchObject({
      name: 'Analytical',
      subscriptionTier: 'starter',
      status: 'active',
    });
    expect(JSON.stringify(r.body)).not.toMatch(/passwordHash|password_hash|\$argon2/);
    const me = await call(s, 'GET', '/api/v1/me', { token: r.body.token });
    expect(me.body.role).toBe('owner');
    expect(me.body.organizations).toEqual([
      { id: r.body.organization.id, name: 'Analytical', role: 'owner' },
    ]);

    const token = await mail.waitFor('ada@example.test', /"token": "(evt_[\w-]+)"/);
    expect((await call(s, 'POST', '/api/v1/auth/verify-email', { body: { token } })).status).toBe(200);
    const again = await call(s, 'POST', '/api/v1/auth/verify-email', { body: { token } });
    expect(again.status).toBe(400);
    expect(again.body.error.code).toBe('invalid_token');
    expect((await call(s, 'GET', '/api/v1/me', { token: r.body.token })).body.user.emailVerified).toBe(true);
  });

  it.each([
    ['short', 'at least 10 characters'],
    ['lowercaseonly', 'mix three of'],
    ['aaaaaaaaaaaaaaaaaaaa', 'too few different characters'],
    ['grace-hopper-Rules1', 'must not contain your email'],
  ])('refuses the weak password %s, saying what to fix', async (password, message) => {
    const r = await call(s, 'POST', '/api/v1/auth/signup', {
      body: { email: 'grace-hopper@example.test', password, name: 'G', organizationName: 'N' },
    });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('validation_failed');
    expect(r.body.error.details.issues[0].path).toBe('body.password');
    expect(r.body.error.message).toContain(message);
  });

  it('refuses a second account with the same email (409)', async () => {
    const u = await signUp(s);
    const r = await call(s, 'POST', '/api/v1/auth/signup', {
      body: { email: u.email.toUpperCase(), password: STRONG, name: 'x', organizationName: 'y' },
    });
    expect(r.status).toBe(409);
    expect(r.body.error.code).toBe('email_taken');
  });
});

describe('sign-in, refresh, sign-out', () => {
  it('logs in; a wrong password gets 401 without saying which part was wrong', async () => {
    const u = await signUp(s);
    const ok = await call(s, 'POST', '/api/v1/auth/login', {
      body: { email: u.email, password: u.password },
    });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ tokenType: 'Bearer', expiresIn: 900 });
    expect(ok.body.organization.id).toBe(u.organizationId);
    const bad = await call(s, 'POST', '/api/v1/auth/login', {
      body: { email: u.email, password: 'Wrong-pass-123' },
    });
    const nobody = await call(s, 'POST', '/api/v1/auth/login', {
      body: { email: 'nobody@example.test', password: 'Wrong-pass-123' },
    });
    expect(bad.status).toBe(401);
    expect(nobody.status).toBe(401);
    expect(bad.body.error.message).toBe(nobody.body.error.message);
  });

  it('rotates refresh tokens; reusing an old one revokes the session', async () => {
    const u = await signUp(s);
    const first = await call(s, 'POST', '/api/v1/auth/refresh', { body: { refreshToken: u.refreshToken } });
    expect(first.status).toBe(200);
    expect(first.body.refreshToken).not.toBe(u.refreshToken);
    expect((await call(s, 'GET', '/api/v1/me', { token: first.body.token })).status).toBe(200);
    const reuse = await call(s, 'POST', '/api/v1/auth/refresh', { body: { refreshToken: u.refreshToken } });
    expect(reuse.status).toBe(401);
    expect(reuse.body.error.code).toBe('invalid_refresh_token');
    // The theft response: the whole session is gone, including the newest tokens.
    expect((await call(s, 'GET', '/api/v1/me', { token: first.body.token })).status).toBe(401);
    expect(
      (await call(s, 'POST', '/api/v1/auth/refresh', { body: { refreshToken: first.body.refreshToken } }))
        .status,
    ).toBe(401);
  });

  it('logout revokes the access and refresh tokens at once', async () => {
    const u = await signUp(s);
    expect((await call(s, 'POST', '/api/v1/auth/logout', { token: u.token })).status).toBe(204);
    const after = await call(s, 'GET', '/api/v1/me', { token: u.token });
    expect(after.status).toBe(401);
    expect(after.body.error.code).toBe('unauthorized');
    expect(
      (await call(s, 'POST', '/api/v1/auth/refresh', { body: { refreshToken: u.refreshToken } })).status,
    ).toBe(401);
  });

  it('a tampered or foreign token is refused', async () => {
    const u = await signUp(s);
    const [h, p] = u.token.split('.');
    const forged = `${h}.${p}.${'A'.repeat(43)}`;
    expect((await call(s, 'GET', '/api/v1/me', { token: forged })).status).toBe(401);
    expect((await call(s, 'GET', '/api/v1/me', { token: 'not-a-token' })).status).toBe(401);
    expect((await call(s, 'GET', '/api/v1/me')).status).toBe(401);
  });

  it('studio cookies: HTTP-only, SameSite=Strict; the cookie authenticates and refreshes', async () => {
    const u = await signUp(s);
    const res = await s.request('/api/v1/auth/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: u.email, password: u.password, cookie: true }),
    });
    const cookies = res.headers.getSetCookie();
    expect(cookies).toHaveLength(2);
    for (const c of cookies) {
      expect(c).toMatch(/HttpOnly/i);
      expect(c).toMatch(/SameSite=Strict/i);
    }
    const jar = cookies.map((c) => c.split(';')[0]).join('; ');
    const me = await s.request('/api/v1/me', { headers: { cookie: jar } });
    expect(me.status).toBe(200);
    const refreshed = await s.request('/api/v1/auth/refresh', { method: 'POST', headers: { cookie: jar } });
    expect(refreshed.status, await refreshed.clone().text()).toBe(200);
    expect(refreshed.headers.getSetCookie()).toHaveLength(2);
  });
});

describe('passwords', () => {
  it('a password change revokes every session and returns a new one', async () => {
    const u = await signUp(s);
    const other = await call(s, 'POST', '/api/v1/auth/login', {
      body: { email: u.email, password: u.password },
    });
    const r = await call(s, 'POST', '/api/v1/auth/password', {
      token: u.token,
      body: { currentPassword: u.password, newPassword: 'A-brand-new-Passw0rd' },
    });
    expect(r.status).toBe(200);
    expect((await call(s, 'GET', '/api/v1/me', { token: u.token })).status).toBe(401);
    expect((await call(s, 'GET', '/api/v1/me', { token: other.body.token })).status).toBe(401);
    expect((await call(s, 'GET', '/api/v1/me', { token: r.body.token })).status).toBe(200);
    const oldLogin = await call(s, 'POST', '/api/v1/auth/login', {
      body: { email: u.email, password: u.password },
    });
    expect(oldLogin.status).toBe(401);
    const wrong = await call(s, 'POST', '/api/v1/auth/password', {
      token: r.body.token,
      body: { currentPassword: 'not-it-at-All-1', newPassword: 'Another-new-Passw0rd' },
    });
    expect(wrong.status).toBe(401);
  });

  it('reset by mailed single-use token; unknown addresses get the same answer', async () => {
    const u = await signUp(s);
    const unknown = await call(s, 'POST', '/api/v1/auth/password-reset/request', {
      body: { email: 'nobody-here@example.test' },
    });
    const known = await call(s, 'POST', '/api/v1/auth/password-reset/request', { body: { email: u.email } });
    expect(unknown.status).toBe(202);
    expect(known.status).toBe(202);
    expect(known.body).toEqual(unknown.body);
    const token = await mail.waitFor(u.email, /"token": "(prt_[\w-]+)"/);
    const weak = await call(s, 'POST', '/api/v1/auth/password-reset/confirm', {
      body: { token, password: 'weak' },
    });
    expect(weak.status).toBe(400);
    const ok = await call(s, 'POST', '/api/v1/auth/password-reset/confirm', {
      body: { token, password: 'Reset-and-Rem3mber' },
    });
    expect(ok.status).toBe(200);
    expect((await call(s, 'GET', '/api/v1/me', { token: u.token })).status).toBe(401);
    const reused = await call(s, 'POST', '/api/v1/auth/password-reset/confirm', {
      body: { token, password: 'Reset-Again-Rem3mber' },
    });
    expect(reused.status).toBe(400);
    expect(reused.body.error.code).toBe('invalid_token');
    const login = await call(s, 'POST', '/api/v1/auth/login', {
      body: { email: u.email, password: 'Reset-and-Rem3mber' },
    });
    expect(login.status).toBe(200);
  });

  it('an expired reset token fails', async () => {
    const u = await signUp(s);
    await call(s, 'POST', '/api/v1/auth/password-reset/request', { body: { email: u.email } });
    const token = await mail.waitFor(u.email, /"token": "(prt_[\w-]+)"/);
    await s.database.db.system((tx) =>
      tx.execute(sql`UPDATE user_tokens SET expires_at = now() - interval '1 second'`),
    );
    const r = await call(s, 'POST', '/api/v1/auth/password-reset/confirm', {
      body: { token, password: 'Reset-and-Rem3mber' },
    });
    expect(r.status).toBe(400);
  });
});

describe('organizations of one user', () => {
  it('switch-org issues a token for another organization the user belongs to, 404 for others', async () => {
    const owner = await signUp(s);
    const other = await signUp(s);
    const inv = await call(s, 'POST', '/api/v1/invitations', {
      token: other.token,
      body: { email: owner.email, role: 'viewer' },
    });
    expect(inv.status).toBe(201);
    const token = await mail.waitFor(owner.email, /invitations\/(inv_[\w-]+)\/accept/);
    const accepted = await call(s, 'POST', `/api/v1/invitations/${token}/accept`, {
      token: owner.token,
      body: {},
    });
    expect(accepted.status).toBe(200);
    const sw = await call(s, 'POST', '/api/v1/auth/switch-org', {
      token: owner.token,
      body: { organizationId: other.organizationId },
    });
    expect(sw.status).toBe(200);
    const me = await call(s, 'GET', '/api/v1/me', { token: sw.body.token });
    expect(me.body.organization.id).toBe(other.organizationId);
    expect(me.body.role).toBe('viewer');
    expect(me.body.organizations.map((o: { id: string }) => o.id).sort()).toEqual(
      [owner.organizationId, other.organizationId].sort(),
    );
    const stranger = await signUp(s);
    const denied = await call(s, 'POST', '/api/v1/auth/switch-org', {
      token: owner.token,
      body: { organizationId: stranger.organizationId },
    });
    expect(denied.status).toBe(404);
    const login = await call(s, 'POST', '/api/v1/auth/login', {
      body: { email: owner.email, password: owner.password, organizationId: other.organizationId },
    });
    expect(login.body.organization.id).toBe(other.organizationId);
  });
});
