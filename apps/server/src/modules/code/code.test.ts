import { PLANS } from '@aiops/core';
import { testBackend } from '@aiops/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type SignedUp, signUp, startTestServer, type TestServer } from '../../test-support.ts';

let s: TestServer;
let owner: SignedUp;
beforeAll(async () => {
  s = await startTestServer();
  owner = await signUp(s);
});
afterAll(() => s?.close());

describe(`POST /code/test on ${testBackend()}`, () => {
  it('runs code with sample input and answers result, console lines, time, memory and the tier limits', async () => {
    const res = await call(s, 'POST', '/api/v1/code/test', {
      token: owner.token,
      body: {
        language: 'typescript',
        code: 'const items: { price: number }[] = input.items;\nconsole.log("items", items.length);\nreturn { total: items.reduce((s, i) => s + i.price, 0), from: nodes.fetch.output.source };',
        input: { items: [{ price: 2 }, { price: 3.5 }] },
        nodes: { fetch: { output: { source: 'crm' } } },
      },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      ok: true,
      output: { total: 5.5, from: 'crm' },
      logs: [{ level: 'info', message: 'items 2' }],
      limits: PLANS.starter.resources.code,
    });
    expect(res.body.durationMs).toBeGreaterThan(0);
    expect(res.body.memoryBytes).toBeGreaterThan(0);
  });

  it('a runaway loop answers code_timeout; bad input is a 400 naming the field', async () => {
    const loop = await call(s, 'POST', '/api/v1/code/test', {
      token: owner.token,
      body: { code: 'while (true) {}' },
    });
    expect(loop.status).toBe(200);
    expect(loop.body.ok).toBe(false);
    expect(loop.body.error).toMatchObject({ code: 'code_timeout', retryable: false });
    const empty = await call(s, 'POST', '/api/v1/code/test', { token: owner.token, body: { code: '' } });
    expect(empty.status).toBe(400);
    expect(JSON.stringify(empty.body)).toContain('code');
    const badHost = await call(s, 'POST', '/api/v1/code/test', {
      token: owner.token,
      body: { code: 'return 1', network: { allowedHosts: ['http://x'] } },
    });
    expect(badHost.status).toBe(400);
    expect(JSON.stringify(badHost.body)).toContain('network.allowedHosts');
  });

  it('network on a starter organization is refused with 403', async () => {
    const res = await call(s, 'POST', '/api/v1/code/test', {
      token: owner.token,
      body: { code: 'return 1', network: { allowedHosts: ['api.example.com'] } },
    });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('code_network_not_allowed');
  });

  it('needs a signed-in caller', async () => {
    const res = await call(s, 'POST', '/api/v1/code/test', { body: { code: 'return 1' } });
    expect(res.status).toBe(401);
  });
});
