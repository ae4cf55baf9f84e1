import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type SignedUp, signUp, startTestServer, type TestServer } from '../test-support.ts';

/**
 * Bad input on every endpoint under /api/v1 (read from the OpenAPI document, so a new route is covered
 * without editing this test) answers 4xx with the uniform error body, never a 500.
 */
let s: TestServer;
let u: SignedUp;
beforeAll(async () => {
  s = await startTestServer();
  u = await signUp(s);
});
afterAll(() => s?.close());

interface Operation {
  parameters?: { in: string; name: string }[];
  requestBody?: unknown;
}

async function expectUniformError(res: Response, what: string) {
  const text = await res.text();
  expect(res.status, `${what}: ${text}`).toBeGreaterThanOrEqual(400);
  expect(res.status, `${what}: ${text}`).toBeLessThan(500);
  const body = JSON.parse(text) as { error: { code: string; message: string; requestId: string } };
  expect(body.error.code, what).toMatch(/^[a-z_]+$/);
  expect(body.error.message.length, what).toBeGreaterThan(10);
  expect(body.error.requestId, what).toBe(res.headers.get('x-request-id'));
}

describe('bad input on every endpoint', () => {
  it('answers 4xx with the uniform error body', async () => {
    const doc = (await (await s.request('/openapi.json')).json()) as {
      paths: Record<string, Record<string, Operation>>;
    };
    let cases = 0;
    let endpoints = 0;
    for (const [path, methods] of Object.entries(doc.paths)) {
      if (!path.startsWith('/api/v1')) continue;
      for (const [method, op] of Object.entries(methods)) {
        endpoints++;
        const M = method.toUpperCase();
        const params = op.parameters ?? [];
        const concrete = path.replace(/\{(\w+)\}/g, (_m, name: string) =>
          name === 'token' ? 'inv_doesnotexistdoesnotexist' : '00000000-0000-4000-8000-000000000000',
        );
        const auth = { authorization: `Bearer ${u.token}` };
        const send = (p: string, init: RequestInit = {}) =>
          s.request(p, {
            method: M,
            ...init,
            headers: { ...auth, ...(init.headers as Record<string, string>) },
          });
        if (params.some((p) => p.in === 'path')) {
          const bad = path.replace(/\{(\w+)\}/g, 'not-a-valid-id%20%20');
          const hasBody = !!op.requestBody;
          await expectUniformError(
            await send(bad, hasBody ? { body: '{}', headers: { 'content-type': 'application/json' } } : {}),
            `${M} ${path} bad path param`,
          );
          cases++;
        }
        if (params.some((p) => p.in === 'query')) {
          await expectUniformError(await send(`${concrete}?limit=-5&cursor=%00`), `${M} ${path} bad query`);
          cases++;
        }
        if (op.requestBody) {
          const json = { 'content-type': 'application/json' };
          await expectUniformError(
            await send(concrete, { body: '{"broken": ', headers: json }),
            `${M} ${path} malformed JSON`,
          );
          await expectUniformError(
            await send(concrete, { body: '[1, 2, 3]', headers: json }),
            `${M} ${path} wrong shape`,
          );
          await expectUniformError(
            await send(concrete, {
              body: 'a=b',
              headers: { 'content-type': 'application/x-www-form-urlencoded' },
            }),
            `${M} ${path} wrong content type`,
          );
          cases += 3;
        }
        if (!params.length && !op.requestBody) {
          const res = await s.request(concrete, {
            method: M,
            headers: { authorization: 'Bearer garbage.token.here' },
          });
          if (path === '/api/v1/auth/session') {
            // The session probe answers "signed out", not an error, by design (README, Accounts).
            expect(res.status).toBe(200);
            expect(await res.json()).toEqual({ authenticated: false });
          } else await expectUniformError(res, `${M} ${path} bad credential`);
          cases++;
        }
      }
    }
    expect(endpoints).toBeGreaterThanOrEqual(25);
    expect(cases).toBeGreaterThanOrEqual(endpoints);
  });

  it('field errors name each bad field', async () => {
    const r = await call(s, 'POST', '/api/v1/api-keys', {
      token: u.token,
      body: { name: '', scopes: ['not:a-permission'], rateLimit: 0, expiresAt: 'tomorrow' },
    });
    expect(r.status).toBe(400);
    const paths = r.body.error.details.issues.map((i: { path: string }) => i.path).sort();
    expect(paths).toEqual(['body.expiresAt', 'body.name', 'body.rateLimit', 'body.scopes.0']);
    const cursor = await call(s, 'GET', '/api/v1/audit-logs?cursor=bm90LWEtY3Vyc29y', { token: u.token });
    expect(cursor.status).toBe(400);
    expect(cursor.body.error.message).toContain('nextCursor');
  });
});

describe('routes must declare their permission', () => {
  it('the app refuses a route under /api/v1 without config.permission', async () => {
    await expect(
      startTestServer({
        beforeListen(app) {
          app.get('/api/v1/naked', async () => ({ ok: true }));
        },
      }),
    ).rejects.toThrow(/GET \/api\/v1\/naked declares no config.permission/);
  });
});
