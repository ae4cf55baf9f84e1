import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addMember, call, signUp, startTestServer, type TestServer } from '../../test-support.ts';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(() => s?.close());

describe('API keys', () => {
  it('shows the secret once, stores only a hash and prefix, and authenticates with it', async () => {
    const u = await signUp(s);
    const r = await call(s, 'POST', '/api/v1/api-keys', {
      token: u.token,
      body: { name: 'ci', scopes: ['organization:read', 'member:read'], rateLimit: 50 },
    });
    expect(r.status).toBe(201);
    expect(r.body.key).toMatch(/^aio_[A-Za-z0-9_-]{43}$/);
    expect(r.body.apiKey).toMatchObject({
      name: 'ci',
      prefix: r.body.key.slice(0, 12),
      rateLimit: 50,
      lastUsedAt: null,
    });
    const list = await call(s, 'GET', '/api/v1/api-keys', { token: u.token });
    expect(JSON.stringify(list.body)).not.toContain(r.body.key);
    expect(
      JSON.stringify(await call(s, 'GET', `/api/v1/api-keys/${r.body.apiKey.id}`, { token: u.token })),
    ).not.toContain(r.body.key.slice(12));

    const me = await call(s, 'GET', '/api/v1/me', { token: r.body.key });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ user: null, role: null, apiKey: { id: r.body.apiKey.id, name: 'ci' } });
    expect(me.body.permissions).toEqual(['member:read', 'organization:read']);
    const used = await call(s, 'GET', `/api/v1/api-keys/${r.body.apiKey.id}`, { token: u.token });
    expect(used.body.lastUsedAt).not.toBeNull();
  });

  it('enforces scopes: a key can do only what its scopes name', async () => {
    const u = await signUp(s);
    const { body } = await call(s, 'POST', '/api/v1/api-keys', {
      token: u.token,
      body: { name: 'read-only', scopes: ['organization:read'] },
    });
    expect((await call(s, 'GET', '/api/v1/organization', { token: body.key })).status).toBe(200);
    const denied = await call(s, 'GET', '/api/v1/members', { token: body.key });
    expect(denied.status).toBe(403);
    expect(denied.body.error.message).toContain('this API key');
    expect(
      (await call(s, 'PATCH', '/api/v1/organization', { token: body.key, body: { name: 'x' } })).status,
    ).toBe(403);
    expect((await call(s, 'GET', '/api/v1/audit-logs', { token: body.key })).status).toBe(403);
    expect((await call(s, 'POST', '/api/v1/auth/logout', { token: body.key })).status).toBe(403);
  });

  it("scopes must be a subset of the creator's permissions; a demoted creator's keys shrink", async () => {
    const o = await signUp(s);
    const m = await addMember(s, o, 'member');
    const tooMuch = await call(s, 'POST', '/api/v1/api-keys', {
      token: m.token,
      body: { name: 'k', scopes: ['member:manage', 'workflow:read'] },
    });
    expect(tooMuch.status).toBe(403);
    expect(tooMuch.body.error.details.scopes).toEqual(['member:manage']);
    const ok = await call(s, 'POST', '/api/v1/api-keys', {
      token: m.token,
      body: { name: 'k', scopes: ['api_key:read', 'organization:read'] },
    });
    expect((await call(s, 'GET', '/api/v1/api-keys', { token: ok.body.key })).status).toBe(200);
    await call(s, 'PATCH', `/api/v1/members/${m.userId}`, { token: o.token, body: { role: 'viewer' } });
    expect((await call(s, 'GET', '/api/v1/api-keys', { token: ok.body.key })).status).toBe(403);
    expect((await call(s, 'GET', '/api/v1/organization', { token: ok.body.key })).status).toBe(200);
  });

  it('revocation takes effect at once', async () => {
    const u = await signUp(s);
    const { body } = await call(s, 'POST', '/api/v1/api-keys', {
      token: u.token,
      body: { name: 'k', scopes: ['organization:read'] },
    });
    expect((await call(s, 'GET', '/api/v1/organization', { token: body.key })).status).toBe(200);
    const del = await call(s, 'DELETE', `/api/v1/api-keys/${body.apiKey.id}`, { token: u.token });
    expect(del.status).toBe(200);
    expect(del.body.revokedAt).not.toBeNull();
    const after = await call(s, 'GET', '/api/v1/organization', { token: body.key });
    expect(after.status).toBe(401);
    expect(after.body.error.code).toBe('unauthorized');
  });

  it('an expired key fails', async () => {
    const u = await signUp(s);
    const expiresAt = new Date(Date.now() + 1500).toISOString();
    const { body } = await call(s, 'POST', '/api/v1/api-keys', {
      token: u.token,
      body: { name: 'short', scopes: ['organization:read'], expiresAt },
    });
    expect((await call(s, 'GET', '/api/v1/organization', { token: body.key })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1700));
    expect((await call(s, 'GET', '/api/v1/organization', { token: body.key })).status).toBe(401);
    const past = await call(s, 'POST', '/api/v1/api-keys', {
      token: u.token,
      body: { name: 'past', scopes: ['organization:read'], expiresAt: '2020-01-01T00:00:00Z' },
    });
    expect(past.status).toBe(400);
    expect(past.body.error.details.issues[0].path).toBe('body.expiresAt');
  });

  it('an unknown key, and a well-formed but made-up key, are refused', async () => {
    expect((await call(s, 'GET', '/api/v1/organization', { token: `aio_${'x'.repeat(43)}` })).status).toBe(
      401,
    );
    expect((await call(s, 'GET', '/api/v1/organization', { token: 'aio_' })).status).toBe(401);
  });
});
