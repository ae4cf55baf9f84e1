import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { testBackend } from '@aiops/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../test-support.ts';

/** The studio at `/`: assets (pre-compressed), the SPA fallback, and the API's 404s left alone. */
let s: TestServer;
let dir: string;
const JS = 'console.log("studio");'.repeat(50);

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'aiops-studio-dist-'));
  mkdirSync(path.join(dir, 'assets'));
  writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>AI Ops Studio</title>');
  writeFileSync(path.join(dir, 'assets', 'index-abc.js'), JS);
  writeFileSync(path.join(dir, 'assets', 'index-abc.js.gz'), gzipSync(JS));
  writeFileSync(path.join(dir, 'assets', 'index-abc.js.br'), brotliCompressSync(JS));
  s = await startTestServer({ studioDir: dir });
});
afterAll(async () => {
  await s?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe(`studio files on ${testBackend()}`, () => {
  it('answers index.html, never cached, for the app’s own paths', async () => {
    for (const p of ['/', '/runs/123', '/workflows/new?x=1', '/settings/api-keys']) {
      const r = await s.request(p);
      expect(r.status, p).toBe(200);
      expect(r.headers.get('content-type')).toMatch(/text\/html/);
      expect(r.headers.get('cache-control')).toBe('no-cache');
      expect(await r.text()).toContain('AI Ops Studio');
    }
  });

  it('serves hashed assets with a long cache, compressed for clients that accept it', async () => {
    const plain = await s.request('/assets/index-abc.js', { headers: { 'accept-encoding': 'identity' } });
    expect(plain.status).toBe(200);
    expect(plain.headers.get('cache-control')).toContain('immutable');
    expect(await plain.text()).toBe(JS);
    const gz = await s.request('/assets/index-abc.js', { headers: { 'accept-encoding': 'gzip' } });
    expect(gz.headers.get('content-encoding')).toBe('gzip');
    expect(await gz.text()).toBe(JS);
  });

  it('leaves API, docs and missing assets to the API’s 404', async () => {
    for (const p of ['/api/v1/nope', '/assets/missing.js']) {
      const r = await s.request(p);
      expect(r.status, p).toBe(404);
      expect(((await r.json()) as { error: { code: string } }).error.code).toBe('route_not_found');
    }
    expect((await s.request('/healthz')).status).toBe(200);
  });
});
