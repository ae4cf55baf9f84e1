import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { testBackend } from '@aiops/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, signUp, startTestServer, type TestServer } from '../test-support.ts';

/** Security headers on the studio, /docs and the API; no caching of answers that carry secrets. */
let s: TestServer;
let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'aiops-headers-dist-'));
  mkdirSync(path.join(dir, 'assets'));
  writeFileSync(
    path.join(dir, 'index.html'),
    '<!doctype html><script type="module" src="/assets/a.js"></script>',
  );
  writeFileSync(path.join(dir, 'assets', 'a.js'), 'console.log(1)');
  s = await startTestServer({ studioDir: dir });
});
afterAll(async () => {
  await s?.close();
  rmSync(dir, { recursive: true, force: true });
});

function expectSecurityHeaders(h: Headers, what: string) {
  const csp = h.get('content-security-policy') ?? '';
  expect(csp, what).toContain("frame-ancestors 'none'");
  expect(csp, what).toContain("default-src 'self'");
  expect(csp, what).toContain("script-src 'self'");
  expect(csp, what).toContain("object-src 'none'");
  expect(csp, what).not.toMatch(/script-src[^;]*unsafe-inline/);
  expect(h.get('x-frame-options'), what).toBe('DENY');
  expect(h.get('x-content-type-options'), what).toBe('nosniff');
  expect(h.get('referrer-policy'), what).toBe('no-referrer');
}

describe(`security headers on ${testBackend()}`, () => {
  it('on the studio, its assets, /docs, /openapi.json, health and the API (answers and errors)', async () => {
    const u = await signUp(s);
    const pages: [string, RequestInit?][] = [
      ['/'],
      ['/workflows/some-page'],
      ['/assets/a.js'],
      ['/docs/static/index.html'],
      ['/docs/static/swagger-initializer.js'],
      ['/openapi.json'],
      ['/healthz'],
      ['/api/v1/me', { headers: { authorization: `Bearer ${u.token}` } }],
      ['/api/v1/me'],
      ['/api/v1/no-such-route'],
    ];
    for (const [p, init] of pages) {
      const r = await s.request(p, init);
      await r.arrayBuffer();
      expect(r.status, p).toBeLessThan(500);
      expectSecurityHeaders(r.headers, p);
    }
  });

  it('answers that carry tokens or secrets are not stored (Cache-Control: no-store)', async () => {
    const u = await signUp(s);
    const login = await call(s, 'POST', '/api/v1/auth/login', {
      body: { email: u.email, password: u.password },
    });
    const refresh = await call(s, 'POST', '/api/v1/auth/refresh', {
      body: { refreshToken: login.body.refreshToken },
    });
    const key = await call(s, 'POST', '/api/v1/api-keys', {
      token: u.token,
      body: { name: 'k', scopes: ['organization:read'] },
    });
    const enrol = await call(s, 'POST', '/api/v1/auth/mfa/enrol', { token: u.token });
    const signup = await s.request('/api/v1/auth/signup', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        email: `h-${Date.now()}@example.test`,
        password: 'Another-Long-Secret-77!',
        name: 'H',
        organizationName: 'H',
      }),
    });
    for (const [what, r] of [
      ['login', login],
      ['refresh', refresh],
      ['api key', key],
      ['mfa enrol', enrol],
      ['signup', signup],
    ] as const) {
      expect(r.status, what).toBeLessThan(300);
      expect(r.headers.get('cache-control'), what).toBe('no-store');
    }
    // The studio's hashed assets keep their long cache.
    const asset = await s.request('/assets/a.js');
    expect(asset.headers.get('cache-control')).toContain('immutable');
  });
});
