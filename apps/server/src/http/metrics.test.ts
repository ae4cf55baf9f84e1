import { testBackend } from '@aiops/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type SignedUp, signUp, startTestServer, type TestServer } from '../test-support.ts';

let s: TestServer;
let owner: SignedUp;
beforeAll(async () => {
  s = await startTestServer({ worker: true });
  owner = await signUp(s);
}, 60_000);
afterAll(() => s?.close());

const value = (text: string, metric: string) => {
  const line = text.split('\n').find((l) => l.startsWith(`${metric} `) || l.startsWith(`${metric}{`));
  return line === undefined ? undefined : Number(line.split(' ').at(-1));
};

describe(`/metrics on ${testBackend()}`, () => {
  it('answers Prometheus text: HTTP latency, runs started and finished, queue, leases, steps', async () => {
    const wf = await call(s, 'POST', '/api/v1/workflows', {
      token: owner.token,
      body: {
        status: 'active',
        definition: {
          name: 'm',
          nodes: [{ id: 'a', type: 'agent', agent: { model: 'simulator:echo', prompt: 'x' } }],
        },
      },
    });
    for (let i = 0; i < 2; i++) {
      const r = await call(s, 'POST', `/api/v1/workflows/${wf.body.id}/runs`, {
        token: owner.token,
        body: { input: {}, wait: 20 },
      });
      expect(r.status).toBe(201);
    }
    const res = await s.request('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    expect(value(text, 'aiops_runs_started_total')).toBe(2);
    expect(text).toMatch(/aiops_runs_finished\{status="completed"\} 2/);
    expect(text).toMatch(
      /aiops_http_request_duration_seconds_count\{method="POST",route="\/api\/v1\/workflows\/:id\/runs",status="201"\} 2/,
    );
    expect(value(text, 'aiops_queue_ready_steps')).toBe(0);
    expect(value(text, 'aiops_worker_leased_steps')).toBe(0);
    expect(value(text, 'aiops_step_attempts_last_5m')).toBe(2);
    expect(text).toMatch(/aiops_step_duration_ms\{quantile="0.95"\} \d/);
    expect(text).toContain('process_cpu_user_seconds_total');
    if (testBackend() === 'postgres') expect(text).toMatch(/aiops_db_pool_connections\{state="total"\} \d/);
  });

  it('with a metrics token, scrapes must send it as a bearer token', async () => {
    const guarded = await startTestServer({ metricsToken: 'scrape-token-0123456789' });
    try {
      const none = await guarded.request('/metrics');
      expect(none.status).toBe(401);
      expect(await none.text()).toBe('metrics need the bearer token AIOPS_METRICS_TOKEN\n');
      const wrong = await guarded.request('/metrics', {
        headers: { authorization: 'Bearer scrape-token-0123456780' },
      });
      expect(wrong.status).toBe(401);
      const right = await guarded.request('/metrics', {
        headers: { authorization: 'Bearer scrape-token-0123456789' },
      });
      expect(right.status).toBe(200);
      expect(await right.text()).toContain('aiops_runs_started_total');
    } finally {
      await guarded.close();
    }
  });
});
