import { testBackend } from '@aiops/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type SignedUp, signUp, startTestServer, type TestServer } from '../../test-support.ts';

let s: TestServer;
let user: SignedUp;
beforeAll(async () => {
  s = await startTestServer();
  user = await signUp(s);
});
afterAll(() => s?.close());

/** Signs in as the studio does; the two cookies it sets, by name, and the Set-Cookie lines. */
async function studioLogin() {
  const res = await s.request('/api/v1/auth/login', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: user.email, password: user.password, cookie: true }),
  });
  expect(res.status).toBe(200);
  const lines = res.headers.getSetCookie();
  const jar = Object.fromEntries(lines.map((l) => l.split(';')[0]!.split('=') as [string, string]));
  return {
    lines,
    session: `aiops_session=${jar.aiops_session}`,
    refresh: `aiops_refresh=${jar.aiops_refresh}`,
  };
}

const probe = (headers: Record<string, string> = {}) => s.request('/api/v1/auth/session', { headers });

describe(`the studio's session probe on ${testBackend()}`, () => {
  it('a signed-out visitor: 200 {authenticated: false}, no cookie set; a refresh without a token is 401', async () => {
    const res = await probe();
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ authenticated: false });
    expect(res.headers.getSetCookie()).toEqual([]);
    const refresh = await call(s, 'POST', '/api/v1/auth/refresh');
    expect(refresh.status).toBe(401);
    expect(refresh.body.error.code).toBe('unauthorized');
    expect(refresh.body.error.message).toMatch(/No refresh token/);
  });

  it('signed in (cookie or bearer token): the caller as GET /me describes it', async () => {
    const { lines, session, refresh } = await studioLogin();
    expect(lines.find((l) => l.startsWith('aiops_refresh='))).toMatch(/Path=\/api\/v1\/auth(;|$)/);
    const res = await probe({ cookie: `${session}; ${refresh}` });
    const body = await res.json();
    const me = await call(s, 'GET', '/api/v1/me', { token: user.token });
    expect(body).toEqual({ authenticated: true, ...me.body });
    expect(res.headers.getSetCookie()).toEqual([]);
    const bearer = await call(s, 'GET', '/api/v1/auth/session', { token: user.token });
    expect(bearer.body).toEqual({ authenticated: true, ...me.body });
    const bad = await call(s, 'GET', '/api/v1/auth/session', { token: 'not-a-token' });
    expect(bad.status).toBe(200);
    expect(bad.body).toEqual({ authenticated: false });
  });

  it('an expired access cookie with a good refresh cookie: refreshed in the same request', async () => {
    const { refresh } = await studioLogin();
    const res = await probe({ cookie: refresh }); // the browser dropped the access cookie at its Max-Age
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body).toMatchObject({ authenticated: true, user: { email: user.email } });
    const renewed = res.headers.getSetCookie();
    expect(renewed.map((l) => l.split('=')[0]).sort()).toEqual(['aiops_refresh', 'aiops_session']);
    const session = renewed.find((l) => l.startsWith('aiops_session='))!.split(';')[0]!;
    expect((await s.request('/api/v1/me', { headers: { cookie: session } })).status).toBe(200);
    // The refresh token was rotated: the old one no longer signs anyone in, and its stale cookies go.
    const stale = await probe({ cookie: refresh });
    expect(await stale.json()).toEqual({ authenticated: false });
    expect(stale.headers.getSetCookie().every((l) => /Max-Age=0|Expires=Thu, 01 Jan 1970/i.test(l))).toBe(
      true,
    );
  });
});
