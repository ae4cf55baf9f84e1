import { AppError } from '@aiops/core';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { startTestServer, type TestServer } from '../test-support.ts';

let s: TestServer;

beforeAll(async () => {
  s = await startTestServer({
    bodyLimitBytes: 2048,
    beforeListen(app) {
      app.withTypeProvider<ZodTypeProvider>().post(
        '/test/items',
        {
          schema: {
            body: z.object({
              name: z.string().min(1),
              tags: z.array(z.string()).max(2),
              nested: z.object({ n: z.number().int() }),
            }),
            querystring: z.object({ dryRun: z.enum(['true', 'false']).optional() }),
          },
        },
        async (req) => ({ ok: true, name: req.body.name }),
      );
      app.get('/test/boom', async () => {
        throw new Error('secret internal detail at /srv/app.ts:42');
      });
      app.get('/test/app-error', async () => {
        throw new AppError(409, 'conflict', 'The name is taken: choose another', {
          details: { field: 'name' },
        });
      });
    },
  });
});
afterAll(() => s?.close());

const post = (body: string, contentType = 'application/json', path = '/test/items') =>
  s.request(path, { method: 'POST', headers: { 'content-type': contentType }, body });

async function expectErrorBody(res: Response, status: number, code: string) {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  const body = (await res.json()) as {
    error: { code: string; message: string; requestId: string; details?: unknown };
  };
  expect(body.error.code).toBe(code);
  expect(body.error.message.length).toBeGreaterThan(10);
  expect(body.error.requestId).toBe(res.headers.get('x-request-id'));
  expect(JSON.stringify(body)).not.toMatch(/\bat .*\.ts:\d+|node_modules|stack/);
  return body;
}

describe('uniform error body', () => {
  it('accepts a valid request', async () => {
    const res = await post(JSON.stringify({ name: 'a', tags: [], nested: { n: 1 } }));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, name: 'a' });
  });

  it('malformed JSON', async () => {
    const body = await expectErrorBody(await post('{"name": '), 400, 'invalid_json');
    expect(body.error.message).toMatch(/not valid JSON/);
  });

  it('empty JSON body', async () => {
    await expectErrorBody(await post(''), 400, 'invalid_json');
  });

  it('wrong content type', async () => {
    const body = await expectErrorBody(
      await post('name=a', 'application/x-www-form-urlencoded'),
      415,
      'unsupported_media_type',
    );
    expect(body.error.message).toMatch(/application\/json/);
    await expectErrorBody(await post('hello', 'text/plain'), 415, 'unsupported_media_type');
  });

  it('body too large', async () => {
    const body = await expectErrorBody(
      await post(JSON.stringify({ name: 'x'.repeat(5000) })),
      413,
      'payload_too_large',
    );
    expect(body.error.message).toMatch(/2048 bytes/);
  });

  it('unknown route', async () => {
    const body = await expectErrorBody(await s.request('/api/v1/nothing-here'), 404, 'route_not_found');
    expect(body.error.message).toContain('GET /api/v1/nothing-here');
  });

  it('validation errors list every bad field with its path', async () => {
    const res = await post(JSON.stringify({ name: '', tags: ['a', 'b', 'c'], nested: { n: 1.5 } }));
    const body = await expectErrorBody(res, 400, 'validation_failed');
    const paths = (body.error.details as { issues: { path: string }[] }).issues.map((i) => i.path).sort();
    expect(paths).toEqual(['body.name', 'body.nested.n', 'body.tags']);
  });

  it('query string validation names the parameter', async () => {
    const res = await post(
      JSON.stringify({ name: 'a', tags: [], nested: { n: 1 } }),
      'application/json',
      '/test/items?dryRun=maybe',
    );
    const body = await expectErrorBody(res, 400, 'validation_failed');
    expect((body.error.details as { issues: { path: string }[] }).issues[0]!.path).toBe('query.dryRun');
  });

  it('a domain error keeps its status, code and details', async () => {
    const body = await expectErrorBody(await s.request('/test/app-error'), 409, 'conflict');
    expect(body.error.details).toEqual({ field: 'name' });
  });

  it('an unexpected error answers 500 without internals, and is logged with the request id', async () => {
    const res = await s.request('/test/boom', { headers: { 'x-request-id': 'trace-me-123' } });
    const body = await expectErrorBody(res, 500, 'internal_error');
    expect(body.error.requestId).toBe('trace-me-123');
    expect(JSON.stringify(body)).not.toContain('secret internal detail');
    expect(s.logs.some((l) => l.includes('trace-me-123') && l.includes('secret internal detail'))).toBe(true);
  });

  it('every response carries a request id; an unsafe given id is replaced', async () => {
    const res = await s.request('/healthz', { headers: { 'x-request-id': 'bad id with spaces' } });
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('authorization headers and cookies never reach the logs', async () => {
    await s.request('/healthz', {
      headers: { authorization: 'Bearer aio_supersecretvalue', cookie: 'sid=cookievalue' },
    });
    const all = s.logs.join('\n');
    expect(all).not.toContain('aio_supersecretvalue');
    expect(all).not.toContain('cookievalue');
  });
});

describe('health and docs', () => {
  it('/healthz and /readyz', async () => {
    expect(await (await s.request('/healthz')).json()).toEqual({ status: 'ok' });
    const ready = await s.request('/readyz');
    expect(ready.status).toBe(200);
    const body = (await ready.json()) as {
      status: string;
      database: { migrations: { applied: number; expected: number } };
    };
    expect(body.status).toBe('ready');
    expect(body.database.migrations.applied).toBe(body.database.migrations.expected);
  });

  it('serves the OpenAPI document and the docs page', async () => {
    const doc = (await (await s.request('/openapi.json')).json()) as {
      openapi: string;
      paths: Record<string, unknown>;
    };
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/healthz', '/readyz']));
    const docs = await s.request('/docs/');
    expect(docs.status).toBe(200);
    expect(await docs.text()).toMatch(/swagger/i);
  });
});
