import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, signUp, startTestServer, type TestServer } from '../../test-support.ts';

let s: TestServer;
const tiny = { userPerMinute: 6, orgPerMinute: 10 };
beforeAll(async () => {
  s = await startTestServer({
    trustProxy: true,
    settings: {
      rateLimits: {
        tiers: {
          starter: tiny,
          professional: { userPerMinute: 1000, orgPerMinute: 1000 },
          business: tiny,
          enterprise: tiny,
        },
        login: { accountFailures: 3, ipFailures: 6, windowSeconds: 600, blockSeconds: 600 },
        anonymousPerMinute: 30,
      },
    },
  });
});
afterAll(() => s?.close());

const from = (ip: string) => ({ 'x-forwarded-for': ip });

describe('rate limits', () => {
  it('per API key: its requests per minute, with X-RateLimit headers, then 429 with Retry-After', async () => {
    const u = await signUp(s);
    const { body } = await call(s, 'POST', '/api/v1/api-keys', {
      token: u.token,
      body: { name: 'slow', scopes: ['organization:read'], rateLimit: 3 },
    });
    const seen: number[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await call(s, 'GET', '/api/v1/organization', { token: body.key });
      expect(r.status).toBe(200);
      expect(r.headers.get('x-ratelimit-limit')).toBe('3');
      seen.push(Number(r.headers.get('x-ratelimit-remaining')));
    }
    expect(seen).toEqual([2, 1, 0]);
    const limited = await call(s, 'GET', '/api/v1/organization', { token: body.key });
    expect(limited.status).toBe(429);
    expect(limited.body.error.code).toBe('rate_limited');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(limited.headers.get('x-ratelimit-remaining')).toBe('0');
    // The user's own token is counted apart from the key.
    expect((await call(s, 'GET', '/api/v1/organization', { token: u.token })).status).toBe(200);
  });

  it('per user (by tier), and per organization across its users and keys; a higher tier gets more', async () => {
    const u = await signUp(s);
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++)
      statuses.push((await call(s, 'GET', '/api/v1/me', { token: u.token })).status);
    expect(statuses.slice(0, 6).every((x) => x === 200)).toBe(true);
    expect(statuses.slice(6)).toEqual([429, 429]);

    const v = await signUp(s);
    const key = await call(s, 'POST', '/api/v1/api-keys', {
      token: v.token,
      body: { name: 'k', scopes: ['organization:read'], rateLimit: 100 },
    });
    let orgLimited = 0;
    for (let i = 0; i < 12; i++) {
      const r = await call(s, 'GET', '/api/v1/organization', { token: key.body.key });
      if (r.status === 429) {
        orgLimited++;
        expect(r.body.error.message).toContain('your organization');
      }
    }
    expect(orgLimited).toBeGreaterThan(0);

    const w = await signUp(s);
    const up = await call(s, 'PATCH', '/api/v1/organization', {
      token: w.token,
      body: { subscriptionTier: 'professional' },
    });
    expect(up.status).toBe(200);
    const higher: number[] = [];
    for (let i = 0; i < 9; i++) higher.push((await call(s, 'GET', '/api/v1/me', { token: w.token })).status);
    expect(higher.every((x) => x === 200)).toBe(true);
  });

  it('public routes without credentials are limited per client address', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 32; i++) {
      const r = await call(s, 'POST', '/api/v1/auth/password-reset/request', {
        headers: from('10.3.0.1'),
        body: { email: `nobody${i}@example.test` },
      });
      statuses.push(r.status);
    }
    expect(statuses.slice(0, 30).every((x) => x === 202)).toBe(true);
    expect(statuses.slice(30)).toEqual([429, 429]);
    const elsewhere = await call(s, 'POST', '/api/v1/auth/password-reset/request', {
      headers: from('10.3.0.2'),
      body: { email: 'nobody@example.test' },
    });
    expect(elsewhere.status).toBe(202);
  });

  it('login brute force is slowed per account', async () => {
    const u = await signUp(s);
    for (let i = 0; i < 3; i++) {
      const r = await call(s, 'POST', '/api/v1/auth/login', {
        headers: from(`10.1.0.${i}`),
        body: { email: u.email, password: `Wrong-guess-${i}-X` },
      });
      expect(r.status).toBe(401);
    }
    // Even the right password, from a fresh address, waits now.
    const blocked = await call(s, 'POST', '/api/v1/auth/login', {
      headers: from('10.1.0.99'),
      body: { email: u.email, password: u.password },
    });
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(blocked.body.error.message).toContain('this account');
  });

  it('login brute force is slowed per address, across accounts', async () => {
    const ip = '10.2.0.1';
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) {
      const r = await call(s, 'POST', '/api/v1/auth/login', {
        headers: from(ip),
        body: { email: `victim${i}@example.test`, password: 'Wrong-guess-123' },
      });
      statuses.push(r.status);
    }
    expect(statuses.slice(0, 6).every((x) => x === 401)).toBe(true);
    expect(statuses[6]).toBe(429);
    const u = await signUp(s);
    const other = await call(s, 'POST', '/api/v1/auth/login', {
      headers: from('10.2.0.2'),
      body: { email: u.email, password: u.password },
    });
    expect(other.status).toBe(200);
  });
});
