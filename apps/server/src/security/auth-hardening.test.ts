import { randomBytes } from 'node:crypto';
import { decodeJwt, SignJWT } from 'jose';
import { Secret, TOTP } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_RATE_LIMITS } from '../http/rate-limit.ts';
import { call, type SignedUp, signUp, startTestServer, type TestServer } from '../test-support.ts';

/**
 * Sign-in limits under concurrency: an attempt is counted before its password or code is checked, so
 * parallel guesses cannot all be evaluated; addresses count per IPv6 /64. Clients are told apart by
 * X-Forwarded-For (the server trusts its proxy here), so each test has its own address.
 */
const LOGIN = { accountFailures: 5, ipFailures: 8, windowSeconds: 900, blockSeconds: 900 };
const jwtSecret = randomBytes(32);
let s: TestServer;
beforeAll(async () => {
  s = await startTestServer({
    trustProxy: true,
    settings: {
      jwtSecret,
      rateLimits: { ...DEFAULT_RATE_LIMITS, anonymousPerMinute: 1_000_000, login: LOGIN },
    },
  });
});
afterAll(() => s?.close());

const login = (from: string, body: Record<string, unknown>) =>
  call(s, 'POST', '/api/v1/auth/login', { body, headers: { 'x-forwarded-for': from } });

function tally(statuses: number[]): Record<number, number> {
  const t: Record<number, number> = {};
  for (const st of statuses) t[st] = (t[st] ?? 0) + 1;
  return t;
}

async function withMfa(u: SignedUp): Promise<{ secret: string; recoveryCodes: string[] }> {
  const enrol = await call(s, 'POST', '/api/v1/auth/mfa/enrol', { token: u.token });
  const secret = new URL(enrol.body.otpauthUri).searchParams.get('secret')!;
  const act = await call(s, 'POST', '/api/v1/auth/mfa/activate', {
    token: u.token,
    body: { code: new TOTP({ secret: Secret.fromBase32(secret) }).generate() },
  });
  expect(act.status).toBe(200);
  return { secret, recoveryCodes: act.body.recoveryCodes };
}

/** Six-digit codes that are not valid for this secret in the accepted window (so every guess is wrong). */
function wrongCodes(secret: string, n: number): string[] {
  const totp = new TOTP({ secret: Secret.fromBase32(secret) });
  const valid = new Set(
    [-60, -30, 0, 30, 60].map((o) => totp.generate({ timestamp: Date.now() + o * 1000 })),
  );
  const out: string[] = [];
  for (let i = 0; out.length < n; i++) {
    const code = String((i * 7919 + 123_457) % 1_000_000).padStart(6, '0');
    if (!valid.has(code)) out.push(code);
  }
  return out;
}

describe('sign-in limits hold under concurrency', () => {
  it('30 parallel wrong-password sign-ins: at most the account limit are evaluated, the rest get 429', async () => {
    const u = await signUp(s);
    const results = await Promise.all(
      Array.from({ length: 30 }, () =>
        login('10.20.0.1', { email: u.email, password: 'Wrong-Password-42!' }),
      ),
    );
    const t = tally(results.map((r) => r.status));
    expect(t[401] ?? 0).toBeLessThanOrEqual(LOGIN.accountFailures);
    expect(t[429]).toBe(30 - (t[401] ?? 0));
    const rateLimited = results.find((r) => r.status === 429)!;
    expect(Number(rateLimited.headers.get('retry-after'))).toBeGreaterThan(0);
    // The account is now blocked: even the right password waits, from any address.
    expect((await login('10.20.0.2', { email: u.email, password: u.password })).status).toBe(429);
  });

  it('100 parallel TOTP guesses with the right password: at most the account limit are evaluated', async () => {
    const u = await signUp(s);
    const { secret } = await withMfa(u);
    const codes = wrongCodes(secret, 100);
    const results = await Promise.all(
      codes.map((totp) => login('10.20.1.1', { email: u.email, password: u.password, totp })),
    );
    const evaluated = results.filter((r) => r.body.error?.code === 'invalid_mfa_code').length;
    expect(evaluated).toBeGreaterThan(0);
    expect(evaluated).toBeLessThanOrEqual(LOGIN.accountFailures);
    expect(results.filter((r) => r.status === 429)).toHaveLength(100 - evaluated);
  });

  it('wrong recovery codes count too; the right password alone (MFA pending) and successes do not', async () => {
    const u = await signUp(s);
    const { recoveryCodes } = await withMfa(u);
    const from = '10.20.2.1';
    // Asking for the second factor ten times is not a guess.
    for (let i = 0; i < 10; i++) {
      const r = await login(from, { email: u.email, password: u.password });
      expect(r.body.error.code).toBe('mfa_required');
    }
    for (let i = 0; i < LOGIN.accountFailures; i++) {
      const r = await login(from, { email: u.email, password: u.password, recoveryCode: `WRONG-CODE-${i}` });
      expect(r.body.error.code).toBe('invalid_mfa_code');
    }
    const blocked = await login(from, {
      email: u.email,
      password: u.password,
      recoveryCode: recoveryCodes[0],
    });
    expect(blocked.status).toBe(429);

    // Successful sign-ins give their reservation back: more of them than the address limit all pass.
    const v = await signUp(s);
    for (let i = 0; i < LOGIN.ipFailures + 2; i++) {
      expect((await login('10.20.3.1', { email: v.email, password: v.password })).status).toBe(200);
    }
  });

  it('an IPv6 client counts per /64: rotating addresses inside it does not add attempts', async () => {
    const statuses: number[] = [];
    for (let i = 1; i <= LOGIN.ipFailures + 1; i++) {
      // A different account each time, so only the address limit applies.
      const r = await login(`2001:db8:7:9::${i.toString(16)}`, {
        email: `nobody-${i}-${Date.now()}@example.test`,
        password: 'Wrong-Password-42!',
      });
      statuses.push(r.status);
    }
    expect(statuses.slice(0, LOGIN.ipFailures)).toEqual(Array(LOGIN.ipFailures).fill(401));
    expect(statuses.at(-1)).toBe(429);
    // Another /64 is another client.
    const other = await login('2001:db8:7:a::1', {
      email: 'nobody@example.test',
      password: 'Wrong-Password-42!',
    });
    expect(other.status).toBe(401);
  });
});

describe('access tokens', () => {
  /** A token signed with the server's own key, as its `sign` would, but with the given claims. */
  const forge = (claims: Record<string, unknown>, exp: boolean) => {
    const jwt = new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' })
      .setIssuer('aiops')
      .setAudience('aiops-api')
      .setIssuedAt();
    return (exp ? jwt.setExpirationTime('5m') : jwt).sign(jwtSecret);
  };

  it('a token without exp is refused (401), though it names a live session', async () => {
    const u = await signUp(s);
    const { sub, org, sid } = decodeJwt(u.token);
    const withExp = await forge({ sub, org, sid }, true);
    expect((await call(s, 'GET', '/api/v1/me', { token: withExp })).status).toBe(200);
    const noExp = await forge({ sub, org, sid }, false);
    const r = await call(s, 'GET', '/api/v1/me', { token: noExp });
    expect(r.status).toBe(401);
  });

  it('a non-UUID organization, user or session claim gives 401, not 500', async () => {
    const u = await signUp(s);
    const { sub, org, sid } = decodeJwt(u.token);
    for (const claims of [
      { sub, org: 'not-a-uuid', sid },
      { sub: "1' or '1'='1", org, sid },
      { sub, org, sid: 42 },
    ]) {
      const r = await call(s, 'GET', '/api/v1/me', { token: await forge(claims, true) });
      expect(r.status).toBe(401);
      expect(r.body.error.code).toBe('unauthorized');
    }
  });
});

describe('password policy', () => {
  it('common passwords that pass the character rules are refused with a 400 that says what to fix', async () => {
    for (const password of ['Password123!', 'Qwerty123456!', 'P@ssw0rd2024!']) {
      const r = await call(s, 'POST', '/api/v1/auth/signup', {
        body: {
          email: `weak-${randomBytes(4).toString('hex')}@example.test`,
          password,
          name: 'W',
          organizationName: 'W',
        },
      });
      expect(r.status, password).toBe(400);
      expect(r.body.error.code).toBe('validation_failed');
      expect(r.body.error.details.issues[0].path).toBe('body.password');
      expect(r.body.error.message).toMatch(/too easy to guess .*: .*words/);
    }
    const u = await signUp(s);
    const change = await call(s, 'POST', '/api/v1/auth/password', {
      token: u.token,
      body: { currentPassword: u.password, newPassword: 'Password123!' },
    });
    expect(change.status).toBe(400);
    expect(change.body.error.details.issues[0].path).toBe('body.newPassword');
  });
});
