/**
 * The HTTP half of `bench:engine`: a server process per backend (bench/engine-server.ts), a signed-up
 * organization with an API key, load cells (autocannon) and the step-to-step overhead of long chains.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import autocannon from 'autocannon';

const TSX = import.meta.resolve('tsx');
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export const pct = (xs: number[], p: number): number | undefined => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

export interface BenchServer {
  url: string;
  key: string;
  call: Api;
  /** Runs of a workflow by status, counted in the database. */
  count(workflowId: string): Promise<Record<string, number>>;
  stop(): Promise<void>;
}

type Api = <T = Record<string, unknown>>(method: string, p: string, body?: unknown) => Promise<T>;

function api(url: string, key?: string): Api {
  return async <T>(method: string, p: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${url}${p.startsWith('/bench') ? '' : '/api/v1'}${p}`, {
      method,
      headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${text}`);
    return JSON.parse(text) as T;
  };
}

/** Starts bench/engine-server.ts on `target` (a PostgreSQL URL or a PGlite directory) and signs up. */
export async function startServer(kind: string, target: string): Promise<BenchServer> {
  const child: ChildProcess = spawn(
    process.execPath,
    [
      // e.g. BENCH_SERVER_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the server.
      ...(process.env.BENCH_SERVER_ARGS?.split(' ').filter(Boolean) ?? []),
      '--import',
      TSX,
      path.join(import.meta.dirname, 'engine-server.ts'),
      target,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LOG_LEVEL: 'warn' } },
  );
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  // The server's own complaints, labelled with its backend so they cannot be mistaken for another's.
  child.stderr!.on('data', (d: Buffer) => {
    for (const line of d.toString().split('\n').filter(Boolean))
      process.stderr.write(`  [${kind} server] ${line.slice(0, 300)}\n`);
  });
  const exited = new Promise((r) => child.once('exit', r));
  for (let i = 0; i < 600 && !/READY (\S+)/.test(out); i++) await sleep(100);
  const url = /READY (\S+)/.exec(out)?.[1];
  if (!url) {
    child.kill('SIGKILL');
    throw new Error(`server did not start: ${out}`);
  }
  const stop = async () => {
    child.kill('SIGTERM');
    await exited;
  };
  try {
    return await signUp(kind, url, stop);
  } catch (e) {
    await stop();
    throw e;
  }
}

async function signUp(kind: string, url: string, stop: () => Promise<void>): Promise<BenchServer> {
  const anon = api(url);
  const signup = await anon<{ token: string }>('POST', '/auth/signup', {
    email: `bench-${Date.now()}@example.test`,
    password: 'Bench-Passw0rd-2026!',
    name: 'Bench',
    organizationName: `Bench ${kind}`,
  });
  // A starter organization may run 500 workflows a month; the bench runs thousands.
  await api(url, signup.token)('PATCH', '/organization', { subscriptionTier: 'enterprise' });
  // BENCH_PRICED=1: the simulator's model costs money (an organization price override), so every step adds
  // its cost to the organization's monthly spend, as a real model's does.
  if (process.env.BENCH_PRICED === '1')
    await api(url, signup.token)('POST', '/prices', {
      model: 'simulator:echo',
      effectiveFrom: '2020-01-01',
      input: '2',
      output: '8',
    });
  const { key } = await api(url, signup.token)<{ key: string }>('POST', '/api-keys', {
    name: 'bench',
    scopes: ['workflow:create', 'workflow:read', 'workflow:execute', 'run:read'],
    rateLimit: 100_000, // per minute: the most a key may have
  });
  const call = api(url, key);
  return {
    url,
    key,
    call,
    count: (workflowId) => call<Record<string, number>>('GET', `/bench/runs/${workflowId}`),
    stop,
  };
}

const echo = (id: string) => ({
  id,
  type: 'agent',
  agent: { model: 'simulator:echo', prompt: `step ${id}` },
});
export const chain = (name: string, n: number) => ({
  name,
  nodes: Array.from({ length: n }, (_, i) => echo(`s${i}`)),
  connections: Array.from({ length: n - 1 }, (_, i) => ({ from: `s${i}`, to: `s${i + 1}` })),
});

export async function createChain(s: BenchServer, name: string, steps: number): Promise<string> {
  const wf = await s.call<{ id: string }>('POST', '/workflows', {
    definition: chain(name, steps),
    status: 'active',
  });
  return wf.id;
}

const OPEN = ['pending', 'running', 'queued'];
const total = (c: Record<string, number>) => Object.values(c).reduce((a, b) => a + b, 0);
const open = (c: Record<string, number>) => OPEN.reduce((a, k) => a + (c[k] ?? 0), 0);

async function drain(s: BenchServer, workflowId: string, limitMs = 120_000): Promise<Record<string, number>> {
  const until = Date.now() + limitMs;
  for (;;) {
    const c = await s.count(workflowId);
    if (open(c) === 0 || Date.now() > until) return c;
    await sleep(20);
  }
}

export interface Cpu {
  server: number;
  /** CPU ms by backend pid. */
  database: Record<string, number> | null;
}

/** Database CPU between two readings: each backend's growth (a backend that is new counts whole). */
export function dbCpu(a: Cpu, b: Cpu): number | undefined {
  if (!a.database || !b.database) return undefined;
  let sum = 0;
  for (const [pid, ms] of Object.entries(b.database)) sum += ms - (a.database[pid] ?? 0);
  return sum;
}

export interface CellResult {
  /** 2xx answers per second. */
  rps: number;
  ok: number;
  errors: number;
  timeouts: number;
  p50: number;
  p99: number;
  max: number;
  /** Runs the database holds for the measured phase, and how many of them completed. */
  runs: number;
  completed: number;
  /** Completed runs per second, from the first request to the last completion (async). */
  executed: number;
  statuses: string;
  /** CPU ms per completed run: the server process, and the database backends (PostgreSQL on this machine). */
  cpuServer: number;
  cpuDb: number | undefined;
}

/** One load cell: `connections` clients POST runs of `workflowId` (sync: with `wait`) for `seconds`. */
export async function cell(
  s: BenchServer,
  workflowId: string,
  o: { sync: boolean; connections: number; seconds: number; warmup: number },
): Promise<CellResult> {
  const fire = (duration: number) =>
    autocannon({
      url: `${s.url}/api/v1/workflows/${workflowId}/runs`,
      method: 'POST',
      headers: { authorization: `Bearer ${s.key}`, 'content-type': 'application/json' },
      body: JSON.stringify(o.sync ? { input: { n: 1 }, wait: 30 } : { input: { n: 1 } }),
      connections: o.connections,
      duration,
      timeout: 10,
    });
  if (o.warmup > 0) await fire(o.warmup);
  const before = await drain(s, workflowId);
  const cpu0 = await s.call<Cpu>('GET', '/bench/cpu');
  const t0 = performance.now();
  const r = await fire(o.seconds);
  const answered = performance.now() - t0;
  const after = await drain(s, workflowId);
  const cpu1 = await s.call<Cpu>('GET', '/bench/cpu');
  const done = performance.now() - t0;
  const ok = r['2xx'];
  const completed = (after.completed ?? 0) - (before.completed ?? 0);
  return {
    rps: ok / (answered / 1000),
    ok,
    errors: r.non2xx + r.errors,
    timeouts: r.timeouts,
    p50: r.latency.p50,
    p99: r.latency.p99,
    max: r.latency.max,
    runs: total(after) - total(before),
    completed,
    executed: completed / (done / 1000),
    statuses: JSON.stringify(r.statusCodeStats),
    cpuServer: (cpu1.server - cpu0.server) / Math.max(1, completed),
    cpuDb: ((d) => (d === undefined ? undefined : d / Math.max(1, completed)))(dbCpu(cpu0, cpu1)),
  };
}

export interface OverheadRow {
  steps: number;
  runs: number;
  p50?: number | undefined;
  p99?: number | undefined;
  startP50?: number | undefined;
}

/** Step-to-step overhead: next step's start minus the previous step's end, in sequential runs. */
export async function stepOverhead(s: BenchServer, plan: [number, number][]): Promise<OverheadRow[]> {
  const rows: OverheadRow[] = [];
  for (const [steps, runs] of plan) {
    const wf = await createChain(s, `chain-${steps}`, steps);
    const gaps: number[] = [];
    const starts: number[] = [];
    for (let r = 0; r < runs; r++) {
      const run = await s.call<{ id: string; status: string; createdAt: string }>(
        'POST',
        `/workflows/${wf}/runs`,
        {
          input: {},
          wait: 120,
        },
      );
      if (run.status !== 'completed') throw new Error(`run ${run.id} ended ${run.status}`);
      const detail = await s.call<{
        steps: { nodeId: string; attempts: { startedAt: string; completedAt: string }[] }[];
      }>('GET', `/runs/${run.id}`);
      const attempts = detail.steps.map((st) => st.attempts[0]!);
      starts.push(Date.parse(attempts[0]!.startedAt) - Date.parse(run.createdAt));
      for (let i = 1; i < attempts.length; i++)
        gaps.push(Date.parse(attempts[i]!.startedAt) - Date.parse(attempts[i - 1]!.completedAt));
    }
    rows.push({ steps, runs, p50: pct(gaps, 50), p99: pct(gaps, 99), startP50: pct(starts, 50) });
  }
  return rows;
}
