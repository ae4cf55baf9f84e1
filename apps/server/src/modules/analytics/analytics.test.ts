import { testBackend } from '@aiops/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type SignedUp, signUp, startTestServer, type TestServer } from '../../test-support.ts';

let s: TestServer;
let owner: SignedUp;
let workflowId: string;
const hourAgo = () => new Date(Date.now() - 3_600_000).toISOString();

beforeAll(async () => {
  s = await startTestServer({ worker: true });
  owner = await signUp(s);
  const created = await call(s, 'POST', '/api/v1/workflows', {
    token: owner.token,
    body: {
      status: 'active',
      definition: {
        name: 'echo',
        input: { type: 'object', properties: { text: { type: 'string' }, fail: { type: 'boolean' } } },
        nodes: [
          { id: 'say', type: 'agent', agent: { model: 'simulator:echo', prompt: 'Say {{input.text}}' } },
          {
            id: 'check',
            type: 'agent',
            agent: {
              model: 'simulator:echo',
              prompt: 'ok',
              simulate: { failTimes: 1, failWith: 'fatal' },
            },
          },
        ],
        connections: [{ from: 'say', to: 'check', condition: 'input.fail == true' }],
      },
    },
  });
  expect(created.status).toBe(201);
  workflowId = created.body.id;
  for (const fail of [false, false, true]) {
    const r = await call(s, 'POST', `/api/v1/workflows/${workflowId}/runs`, {
      token: owner.token,
      body: { input: { text: 'hello analytics', fail }, wait: 20 },
    });
    expect(r.status).toBe(201);
  }
}, 60_000);
afterAll(async () => {
  await s?.close();
});

describe(`GET /analytics/overview on ${testBackend()}`, () => {
  it('counts runs, successes, failures, p95 duration, tokens and cost, in total and per bucket', async () => {
    const r = await call(s, 'GET', `/api/v1/analytics/overview?from=${hourAgo()}&bucket=hour`, {
      token: owner.token,
    });
    expect(r.status).toBe(200);
    expect(r.body.totals).toMatchObject({ runs: 3, completed: 2, failed: 1, finished: 3 });
    expect(r.body.totals.successRate).toBeCloseTo(2 / 3);
    expect(r.body.totals.p95DurationMs).toBeGreaterThanOrEqual(0);
    expect(r.body.totals.tokens).toBeGreaterThan(0);
    expect(r.body.totals.cost).toBe(0);
    const runs = r.body.series.reduce((n: number, b: { runs: number }) => n + b.runs, 0);
    expect(runs).toBe(3);
    expect(r.body.series[0].at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:00:00Z$/);
  });

  it('filters by workflow and sees only the caller’s organization', async () => {
    const other = await signUp(s);
    const theirs = await call(s, 'GET', `/api/v1/analytics/overview?from=${hourAgo()}`, {
      token: other.token,
    });
    expect(theirs.status).toBe(200);
    expect(theirs.body.totals).toMatchObject({ runs: 0, successRate: null, p95DurationMs: null, tokens: 0 });
    expect(theirs.body.series).toEqual([]);
    const none = await call(
      s,
      'GET',
      `/api/v1/analytics/overview?from=${hourAgo()}&workflowId=00000000-0000-4000-8000-000000000000`,
      { token: owner.token },
    );
    expect(none.body.totals.runs).toBe(0);
  });

  it('refuses a window that ends before it starts, and anonymous callers', async () => {
    const bad = await call(
      s,
      'GET',
      `/api/v1/analytics/overview?from=${new Date().toISOString()}&to=${hourAgo()}`,
      { token: owner.token },
    );
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('validation_failed');
    expect((await call(s, 'GET', `/api/v1/analytics/overview?from=${hourAgo()}`)).status).toBe(401);
  });
});
