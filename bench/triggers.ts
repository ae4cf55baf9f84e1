/**
 * `npm run bench:triggers`: webhook-started runs per second (async mode, 202) and cron fire lateness under
 * that load, against an in-process server with its step worker and trigger loop, on PostgreSQL
 * (DATABASE_URL; a fresh database cloned from the migrated template, dropped at the end) or in-memory
 * PGlite. Prints one table.
 *   BENCH_SECONDS (default 10), BENCH_CONNECTIONS (default 50), BENCH_SCHEDULES (default 100 per-second schedules)
 */

import { readFileSync } from 'node:fs';
import { generateKey, parseKeyring, SecretBox } from '@aiops/core';
import { openDb, queryRows } from '@aiops/db';
import { Runs, Worker } from '@aiops/engine';
import { buildApp, TriggerLoop } from '@aiops/server';
import { createPostgresDatabase, dropPostgresDatabase } from '@aiops/testing';
import autocannon from 'autocannon';
import { sql } from 'drizzle-orm';

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);
const schedules = Number(process.env.BENCH_SCHEDULES ?? 100);
const adminUrl = process.env.DATABASE_URL;
const databaseUrl = adminUrl ? await createPostgresDatabase(adminUrl) : undefined;
const backend = databaseUrl ? 'PostgreSQL' : 'PGlite';

const unlimited = { userPerMinute: 1e9, orgPerMinute: 1e9 };
const db = await openDb(
  databaseUrl
    ? { kind: 'postgres', url: databaseUrl, poolSize: 20, migrate: false }
    : { kind: 'pglite', dataDir: 'memory' },
);
const app = await buildApp({
  db,
  secrets: new SecretBox(parseKeyring(`bench:${generateKey()}`)),
  logLevel: 'warn',
  settings: {
    rateLimits: {
      tiers: { starter: unlimited, professional: unlimited, business: unlimited, enterprise: unlimited },
      anonymousPerMinute: 1e9,
    },
  },
});
const worker = new Worker(db, app.engine.model, { concurrency: 256, claimBatch: 64 }, app.log);
await worker.start();
app.engine.runs.useLocalWorker(worker);
const url = await app.listen({ host: '127.0.0.1', port: 0 });

async function post(path: string, body: unknown, token?: string) {
  const res = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  // biome-ignore lint/suspicious/noExplicitAny: bench
  return res.json() as Promise<any>;
}

const { token } = await post('/api/v1/auth/signup', {
  email: `bench-${Date.now()}@example.test`,
  password: 'Bench-Passw0rd-2026!',
  name: 'Bench',
  organizationName: 'Bench',
});
// The monthly execution quota of a new organization (500) would stop the bench.
await db.system((tx) => tx.execute(sql`UPDATE organizations SET monthly_execution_quota = 1000000000`));
const workflow = await post(
  '/api/v1/workflows',
  {
    status: 'active',
    definition: {
      name: 'hook',
      nodes: [{ id: 'result', type: 'output', value: { got: '{{input.n}}' } }],
      connections: [],
    },
  },
  token,
);
const hook = await post(
  `/api/v1/workflows/${workflow.id}/triggers`,
  {
    type: 'webhook',
    name: 'bench',
    maxConcurrentExecutions: null,
    webhook: { auth: 'none', mode: 'async', rateLimitPerMinute: null },
  },
  token,
);
const cronWorkflow = await post(
  '/api/v1/workflows',
  {
    status: 'active',
    definition: { name: 'tick', nodes: [{ id: 'result', type: 'output', value: 1 }], connections: [] },
  },
  token,
);
for (let i = 0; i < schedules; i++) {
  await post(
    `/api/v1/workflows/${cronWorkflow.id}/triggers`,
    { type: 'schedule', name: `tick ${i}`, maxConcurrentExecutions: null, schedule: { cron: '* * * * * *' } },
    token,
  );
}
// The trigger loop runs in the worker process in production, with its own connections: here a second pool
// (on PostgreSQL) stands for that process, so HTTP requests waiting for connections do not queue it.
const loopDb = databaseUrl
  ? await openDb({ kind: 'postgres', url: databaseUrl, poolSize: 4, migrate: false })
  : db;
const loop = new TriggerLoop({ db: loopDb, runs: new Runs(loopDb, app.log), log: app.log });

/** CPU seconds (user + system) of each PostgreSQL backend of this database, when they run on this machine. */
async function postgresCpu(): Promise<Map<number, number> | undefined> {
  if (!databaseUrl) return undefined;
  const pids = await db.system((tx) =>
    queryRows<{ pid: number }>(tx, sql`SELECT pid FROM pg_stat_activity WHERE datname = current_database()`),
  );
  const out = new Map<number, number>();
  for (const { pid } of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(pid, (Number(f[11]) + Number(f[12])) / 100);
    } catch {
      // A backend that ended meanwhile (or /proc not readable: PostgreSQL elsewhere).
      if (!out.size && pid === pids.at(-1)?.pid) return undefined;
    }
  }
  return out;
}
/** Backends started during the load count whole. */
function cpuDelta(before: Map<number, number>, after: Map<number, number>): number {
  let s = 0;
  for (const [pid, t] of after) s += t - (before.get(pid) ?? 0);
  return s;
}

const loopStarted = new Date();
loop.start();
// The loop's first pass (new connections, code compiled on first use, and every schedule's due times
// since it was created) is start-up, not load: the load starts once it is done, and lateness counts the
// due times during the load. The first pass's own lateness is printed apart.
const firstPassUntil = Date.now() + 30_000;
while (schedules > 0 && Date.now() < firstPassUntil) {
  const [row] = await db.system((tx) =>
    queryRows<{ n: number }>(
      tx,
      sql`SELECT count(*)::int AS n FROM trigger_firings WHERE status IN ('started', 'done') AND due_at IS NOT NULL`,
    ),
  );
  if ((row?.n ?? 0) >= schedules) break;
  await new Promise((res) => setTimeout(res, 50));
}
const loadStarted = new Date();
const pgCpuBefore = await postgresCpu();
const cpuBefore = process.cpuUsage();
const loadBefore = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

const r = await autocannon({
  url: `${url}${hook.webhook.path}`,
  method: 'POST',
  connections,
  duration: seconds,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ n: 1 }),
});
const loadEnded = new Date();
const cpu = process.cpuUsage(cpuBefore);
const pgCpuAfter = await postgresCpu();
const loadAfter = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
await loop.stop();

// Runs in the database, not only HTTP answers: started by the hook, and completed.
const until = Date.now() + 60_000;
let runs = { total: 0, completed: 0 };
while (Date.now() < until) {
  const [row] = await db.system((tx) =>
    queryRows<{ total: number; completed: number }>(
      tx,
      sql`SELECT count(*)::int AS total, count(*) FILTER (WHERE status = 'completed')::int AS completed
          FROM workflow_executions WHERE workflow_id = ${workflow.id}`,
    ),
  );
  runs = row!;
  if (runs.completed === runs.total) break;
  await new Promise((res) => setTimeout(res, 200));
}
const lateness = await db.system((tx) =>
  queryRows<{ ms: number }>(
    tx,
    sql`SELECT extract(epoch FROM (f.created_at - f.due_at)) * 1000 AS ms FROM trigger_firings f
        WHERE f.due_at >= ${loadStarted} AND f.due_at < ${loadEnded} ORDER BY 1`,
  ),
);
const ms = lateness.map((x) => Number(x.ms)).sort((a, b) => a - b);
const [firstPass] = await db.system((tx) =>
  queryRows<{ n: number; max: number | null }>(
    tx,
    sql`SELECT count(*)::int AS n, round(max(extract(epoch FROM (f.created_at - f.due_at)) * 1000)) AS max
        FROM trigger_firings f WHERE f.due_at IS NOT NULL AND f.due_at < ${loadStarted}`,
  ),
);
if (process.env.BENCH_DEBUG) {
  const bySecond = await db.system((tx) =>
    queryRows<{ due: string; n: number; max: number }>(
      tx,
      sql`SELECT to_char(f.due_at, 'HH24:MI:SS') AS due, count(*)::int AS n,
            round(max(extract(epoch FROM (f.created_at - f.due_at)) * 1000)) AS max
          FROM trigger_firings f WHERE f.due_at > ${loopStarted} GROUP BY 1 ORDER BY 1`,
    ),
  );
  console.log(
    'lateness by due second (firings, max ms):',
    bySecond.map((b) => `${b.due} ${b.n} ${b.max}`).join(', '),
  );
}
const perRequest = (seconds_: number) =>
  `${((seconds_ * 1e6) / Math.max(1, r.requests.total)).toFixed(0)} µs`;
const pct = (p: number) =>
  ms.length ? ms[Math.min(ms.length - 1, Math.floor((p / 100) * ms.length))]!.toFixed(0) : '-';

console.log(
  `\nbench:triggers on ${backend}, ${seconds} s, ${connections} connections, ${schedules} per-second schedules\n`,
);
console.table([
  {
    measure: 'webhook → run (async 202)',
    'req/s': Math.round(r.requests.average),
    'p50 ms': r.latency.p50,
    'p99 ms': r.latency.p99,
    'non-2xx': r.non2xx + r.errors,
    'runs created': runs.total,
    'runs completed': runs.completed,
    'runs/s': Math.round(runs.total / seconds),
  },
]);
console.table([
  {
    measure: 'cron fire lateness (firing row − due time)',
    firings: ms.length,
    'expected ≈': schedules * Math.round((loadEnded.getTime() - loadStarted.getTime()) / 1000),
    'p50 ms': pct(50),
    'p99 ms': pct(99),
    'max ms': ms.length ? ms.at(-1)!.toFixed(0) : '-',
  },
]);
if (schedules > 0) {
  console.log(
    `Before the load (start-up: the loop's first pass, ${((loadStarted.getTime() - loopStarted.getTime()) / 1000).toFixed(1)} s after its start): ` +
      `${firstPass?.n ?? 0} firings, the latest ${firstPass?.max ?? '-'} ms after its due time`,
  );
}

console.log(
  `CPU per webhook request during the load (everything in the window: HTTP client, API, step worker, trigger loop): ` +
    `this process ${perRequest((cpu.user + cpu.system) / 1e6)}` +
    (pgCpuBefore && pgCpuAfter
      ? `, PostgreSQL backends ${perRequest(cpuDelta(pgCpuBefore, pgCpuAfter))}`
      : '') +
    `; load average ${loadBefore} before, ${loadAfter} after`,
);

await worker.stop(1000);
await app.close();
if (loopDb !== db) await loopDb.close();
await db.close();
if (adminUrl && databaseUrl) await dropPostgresDatabase(adminUrl, databaseUrl);
