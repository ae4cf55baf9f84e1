import { testBackend } from '@aiops/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type SignedUp, signUp, startTestServer, type TestServer } from '../../test-support.ts';

let s: TestServer;
let owner: SignedUp;
let workflowId: string;

beforeAll(async () => {
  s = await startTestServer({ worker: true });
  owner = await signUp(s);
  const wf = await call(s, 'POST', '/api/v1/workflows', {
    token: owner.token,
    body: {
      status: 'active',
      definition: {
        name: 'observed-api',
        nodes: [
          {
            id: 'ask',
            type: 'agent',
            agent: { model: 'simulator:echo', prompt: 'Say {{input.text}}', simulate: { latencyMs: 150 } },
          },
          { id: 'out', type: 'output', value: '{{nodes.ask.output}}' },
        ],
        connections: [{ from: 'ask', to: 'out' }],
      },
    },
  });
  expect(wf.status).toBe(201);
  workflowId = wf.body.id;
}, 60_000);
afterAll(() => s?.close());

const start = (headers: Record<string, string> = {}, text = 'hello') =>
  call(s, 'POST', `/api/v1/workflows/${workflowId}/runs`, {
    token: owner.token,
    headers,
    body: { input: { text }, wait: 20 },
  });

describe(`logs and traces API on ${testBackend()}`, () => {
  it('GET /runs/:id/trace answers the span tree; GET /runs/:id/logs pages, filters and searches', async () => {
    const run = await start();
    expect(run.status).toBe(201);
    const trace = await call(s, 'GET', `/api/v1/runs/${run.body.id}/trace`, { token: owner.token });
    expect(trace.status).toBe(200);
    expect(trace.body.traceId).toBe(run.body.id.replaceAll('-', ''));
    const spans = trace.body.spans as {
      kind: string;
      depth: number;
      name: string;
      parentSpanId: string | null;
      spanId: string;
      attributes: Record<string, unknown>;
      cost: string | null;
      input: unknown;
    }[];
    expect(spans.map((x) => [x.depth, x.kind])).toEqual([
      [0, 'run'],
      [1, 'step'],
      [2, 'model'],
      [1, 'step'],
    ]);
    expect(spans[0]!.spanId).toBe(trace.body.rootSpanId);
    expect(spans[2]!.attributes['gen_ai.request.model']).toBe('simulator:echo');
    expect(spans[2]!.cost).not.toBeNull();
    expect(spans[1]!.input).toMatchObject({ prompt: 'Say hello' });

    const logs = await call(s, 'GET', `/api/v1/runs/${run.body.id}/logs?limit=2`, { token: owner.token });
    expect(logs.status).toBe(200);
    expect(logs.body.logs).toHaveLength(2);
    expect(logs.body.nextCursor).toEqual(expect.any(String));
    const rest = await call(s, 'GET', `/api/v1/runs/${run.body.id}/logs?cursor=${logs.body.nextCursor}`, {
      token: owner.token,
    });
    expect(rest.body.logs.length).toBe(2);
    expect(rest.body.nextCursor).toBeNull();
    const search = await call(
      s,
      'GET',
      `/api/v1/runs/${run.body.id}/logs?q=${encodeURIComponent('out tokens')}`,
      {
        token: owner.token,
      },
    );
    expect(search.body.logs.map((l: { message: string }) => l.message)).toEqual([
      expect.stringMatching(/^Step agent ask completed in \d+ ms: simulator:echo, \d+ in and \d+ out tokens/),
    ]);
    const step = await call(s, 'GET', `/api/v1/runs/${run.body.id}/logs?stepId=out&level=info,error`, {
      token: owner.token,
    });
    expect(step.body.logs.map((l: { nodeId: string }) => l.nodeId)).toEqual(['out', 'out']);
    const bad = await call(s, 'GET', `/api/v1/runs/${run.body.id}/logs?level=loud`, { token: owner.token });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toMatch(/debug, info, warning, error, critical/);
    const cursor = await call(s, 'GET', `/api/v1/runs/${run.body.id}/logs?cursor=xyz`, {
      token: owner.token,
    });
    expect(cursor.status).toBe(400);
    expect(cursor.body.error.code).toBe('invalid_cursor');

    const other = await signUp(s);
    for (const path of ['logs', 'trace'])
      expect(
        (await call(s, 'GET', `/api/v1/runs/${run.body.id}/${path}`, { token: other.token })).status,
      ).toBe(404);
    const list = await call(s, 'GET', '/api/v1/traces?source=run', { token: owner.token });
    expect(list.body.data.map((t: { runId: string }) => t.runId)).toContain(run.body.id);
    expect((await call(s, 'GET', '/api/v1/traces', { token: other.token })).body.data).toEqual([]);
  });

  it('a traceparent header makes the run a child of the caller span; a bad one is ignored', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const parent = '00f067aa0ba902b7';
    const run = await start({ traceparent: `00-${traceId}-${parent}-01` });
    const trace = await call(s, 'GET', `/api/v1/runs/${run.body.id}/trace`, { token: owner.token });
    expect(trace.body.traceId).toBe(traceId);
    expect(trace.body.spans[0].parentSpanId).toBe(parent);
    expect(trace.body.spans.every((x: { traceId: string }) => x.traceId === traceId)).toBe(true);
    const logs = await call(s, 'GET', `/api/v1/runs/${run.body.id}/logs`, { token: owner.token });
    expect(logs.body.logs.every((l: { traceId: string }) => l.traceId === traceId)).toBe(true);
    const byId = await call(s, 'GET', `/api/v1/traces/${traceId}`, { token: owner.token });
    expect(byId.status).toBe(200);
    expect(byId.body.runId).toBe(run.body.id);
    const filtered = await call(s, 'GET', `/api/v1/traces?q=${traceId}`, { token: owner.token });
    expect(filtered.body.data.map((t: { runId: string }) => t.runId)).toEqual([run.body.id]);

    const ignored = await start({ traceparent: `00-${'0'.repeat(32)}-${parent}-01` });
    const own = await call(s, 'GET', `/api/v1/runs/${ignored.body.id}/trace`, { token: owner.token });
    expect(own.body.traceId).toBe(ignored.body.id.replaceAll('-', ''));
    expect(own.body.spans[0].parentSpanId).toBeNull();
    expect((await call(s, 'GET', '/api/v1/traces/nothex', { token: owner.token })).status).toBe(400);
  });

  it('GET /runs/:id/events?logs=true tails the log lines on the run event stream', async () => {
    const started = await call(s, 'POST', `/api/v1/workflows/${workflowId}/runs`, {
      token: owner.token,
      body: { input: { text: 'tail' } },
    });
    const res = await s.request(`/api/v1/runs/${started.body.id}/events?logs=true`, {
      headers: { authorization: `Bearer ${owner.token}` },
    });
    expect(res.status).toBe(200);
    const text = await res.text();
    const logs = text.split('\n\n').filter((b) => b.includes('event: log\n'));
    expect(logs.length).toBe(4);
    expect(text).toMatch(/Step agent ask completed in \d+ ms: simulator:echo/);
    expect(text.indexOf('event: run.completed')).toBeGreaterThan(0);
  });
});

describe(`trace list filters on ${testBackend()}`, () => {
  it('takes numbers beyond 32 bits in its numeric filters', async () => {
    for (const q of [
      'minDurationMs=2147483648',
      'minCost=99999999',
      'minDurationMs=1000000000000&source=otlp',
    ]) {
      const r = await call(s, 'GET', `/api/v1/traces?${q}`, { token: owner.token });
      expect(r.status, q).toBe(200);
      expect(r.body.data).toEqual([]);
    }
  });
});
