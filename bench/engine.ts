/**
 * `npm run bench:engine`: the workflow engine's figures, on PostgreSQL and on PGlite, simulator at 0 ms.
 *  1. executions/s of a 3-step workflow started through the HTTP API (autocannon, separate server process);
 *  2. step-to-step overhead p50/p99 for runs of 1, 10, 100 and 1,000 sequential steps;
 *  3. (PostgreSQL) no-op job throughput of our queue beside graphile-worker and pg-boss on the same server.
 * Env: DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test), BENCH_BACKENDS (postgres,pglite),
 *      BENCH_RUNS (3000), BENCH_CONNECTIONS (64), BENCH_JOBS (20000), BENCH_PARTS (runs,queues).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createPostgresDatabase, dropPostgresDatabase } from '@aiops/testing';
import autocannon from 'autocannon';
import { queueBenchmarks } from './engine-queues.ts';

const adminUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const backends = (process.env.BENCH_BACKENDS ?? 'postgres,pglite').split(',');
const RUNS = Number(process.env.BENCH_RUNS ?? 3000);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
const TSX = import.meta.resolve('tsx');

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? Number.NaN;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function startServer(target: string): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(
    process.execPath,
    ['--import', TSX, path.join(import.meta.dirname, 'engine-server.ts'), target],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, LOG_LEVEL: 'warn' },
    },
  );
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  for (let i = 0; i < 600 && !/READY (\S+)/.test(out); i++) await sleep(100);
  const url = /READY (\S+)/.exec(out)?.[1];
  if (!url) throw new Error(`server did not start: ${out}`);
  return { url, child };
}

function api(url: string, key?: string) {
  return async <T = Record<string, unknown>>(method: string, p: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${url}/api/v1${p}`, {
      method,
      headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${text}`);
    return JSON.parse(text) as T;
  };
}

const echo = (id: string) => ({
  id,
  type: 'agent',
  agent: { model: 'simulator:echo', prompt: `step ${id}` },
});
const chain = (name: string, n: number) => ({
  name,
  nodes: Array.from({ length: n }, (_, i) => echo(`s${i}`)),
  connections: Array.from({ length: n - 1 }, (_, i) => ({ from: `s${i}`, to: `s${i + 1}` })),
});

async function throughput(url: string, key: string, call: ReturnType<typeof api>) {
  const wf = await call<{ id: string }>('POST', '/workflows', {
    definition: chain('three-steps', 3),
    status: 'active',
  });
  // warm up: caches, JIT, connections
  for (let i = 0; i < 50; i++) await call('POST', `/workflows/${wf.id}/runs`, { input: {} });
  await waitIdle(call, wf.id);
  const t0 = performance.now();
  const result = await autocannon({
    url: `${url}/api/v1/workflows/${wf.id}/runs`,
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ input: { n: 1 } }),
    connections: CONNECTIONS,
    amount: RUNS,
  });
  const accepted = performance.now() - t0;
  await waitIdle(call, wf.id);
  const done = performance.now() - t0;
  const bad = result.non2xx + result.errors;
  if (bad)
    console.log(
      `  (errors: ${result.non2xx} non-2xx ${JSON.stringify(result.statusCodeStats)}, ${result.errors} client errors of which ${result.timeouts} timeouts)`,
    );
  return {
    accepted: RUNS / (accepted / 1000),
    executions: RUNS / (done / 1000),
    p50: result.latency.p50,
    p99: result.latency.p99,
    bad,
  };
}

async function waitIdle(call: ReturnType<typeof api>, workflowId: string) {
  for (;;) {
    const open = await Promise.all(
      ['pending', 'running', 'queued'].map((s) =>
        call<{ data: unknown[] }>('GET', `/runs?workflowId=${workflowId}&status=${s}&limit=1`),
      ),
    );
    if (open.every((o) => o.data.length === 0)) return;
    await sleep(25);
  }
}

async function stepOverhead(call: ReturnType<typeof api>) {
  const rows: { steps: number; runs: number; p50: number; p99: number; startP50: number }[] = [];
  for (const [steps, runs] of [
    [1, 30],
    [10, 10],
    [100, 3],
    [1000, 1],
  ] as const) {
    const wf = await call<{ id: string }>('POST', '/workflows', {
      definition: chain(`chain-${steps}`, steps),
      status: 'active',
    });
    const gaps: number[] = [];
    const starts: number[] = [];
    for (let r = 0; r < runs; r++) {
      const run = await call<{ id: string; status: string; createdAt: string }>(
        'POST',
        `/workflows/${wf.id}/runs`,
        { input: {}, wait: 120 },
      );
      if (run.status !== 'completed') throw new Error(`run ${run.id} ended ${run.status}`);
      const detail = await call<{
        steps: { nodeId: string; attempts: { startedAt: string; completedAt: string }[] }[];
      }>('GET', `/runs/${run.id}`);
      const attempts = detail.steps.map((s) => s.attempts[0]!);
      starts.push(Date.parse(attempts[0]!.startedAt) - Date.parse(run.createdAt));
      for (let i = 1; i < attempts.length; i++)
        gaps.push(Date.parse(attempts[i]!.startedAt) - Date.parse(attempts[i - 1]!.completedAt));
    }
    rows.push({ steps, runs, p50: pct(gaps, 50), p99: pct(gaps, 99), startP50: pct(starts, 50) });
  }
  return rows;
}

async function benchBackend(kind: string) {
  let target: string;
  let cleanup: () => Promise<void>;
  if (kind === 'postgres') {
    target = await createPostgresDatabase(adminUrl);
    cleanup = () => dropPostgresDatabase(adminUrl, target);
  } else {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'aiops-bench-'));
    target = path.join(dir, 'data');
    cleanup = async () => rmSync(dir, { recursive: true, force: true });
  }
  const { url, child } = await startServer(target);
  try {
    const anon = api(url);
    const signup = await anon<{ token: string }>('POST', '/auth/signup', {
      email: `bench-${Date.now()}@example.test`,
      password: 'Bench-Passw0rd-2026!',
      name: 'Bench',
      organizationName: `Bench ${kind}`,
    });
    // A starter organization may run 500 workflows a month; the bench runs thousands.
    await api(url, signup.token)('PATCH', '/organization', { subscriptionTier: 'enterprise' });
    const { key } = await api(url, signup.token)<{ key: string }>('POST', '/api-keys', {
      name: 'bench',
      scopes: ['workflow:create', 'workflow:read', 'workflow:execute', 'run:read'],
      rateLimit: 100_000,
    });
    const call = api(url, key);
    const t = await throughput(url, key, call);
    console.log(
      `\n[${kind}] ${RUNS} runs of a 3-step workflow through POST /api/v1/workflows/:id/runs, ${CONNECTIONS} connections:\n` +
        `  accepted ${t.accepted.toFixed(0)} runs/s (HTTP p50 ${t.p50} ms, p99 ${t.p99} ms, ${t.bad} errors); ` +
        `executed ${t.executions.toFixed(0)} runs/s (${(t.executions * 3).toFixed(0)} steps/s), first POST to last completion`,
    );
    const o = await stepOverhead(call);
    console.log(`[${kind}] step-to-step overhead (next step start - previous step end), sequential runs:`);
    console.log('  | steps | runs | p50 ms | p99 ms | run created → first step p50 ms |');
    for (const r of o)
      console.log(
        `  | ${r.steps} | ${r.runs} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ${r.startP50.toFixed(1)} |`,
      );
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.on('exit', r));
    await cleanup();
  }
}

console.log(
  `bench:engine on ${os.cpus().length} cores, load average ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
// BENCH_PARTS=runs,queues (default both): the API and step benchmarks, and the queue comparison.
const parts = (process.env.BENCH_PARTS ?? 'runs,queues').split(',');
if (parts.includes('runs')) for (const kind of backends) await benchBackend(kind);
if (parts.includes('queues') && backends.includes('postgres')) await queueBenchmarks(adminUrl);
