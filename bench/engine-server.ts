/**
 * The server the engine benchmark drives: `aiops start` (API and worker in one process) with rate limits
 * out of the way. Prints `READY <url>`. Usage: node --import tsx bench/engine-server.ts <postgres-url|pglite-dir>
 */
import { readFileSync } from 'node:fs';
import { loadConfig } from '@aiops/config';
import { generateKey, parseKeyring, SecretBox } from '@aiops/core';
import { openDb, queryRows } from '@aiops/db';
import { Worker } from '@aiops/engine';
import { warmTokenizer } from '@aiops/providers';
import { buildApp, startTriggerLoop } from '@aiops/server';
import { sql } from 'drizzle-orm';

const target = process.argv[2]!;
warmTokenizer();
const db = await openDb(
  target.startsWith('postgres')
    ? { kind: 'postgres', url: target, poolSize: 20, migrate: false }
    : {
        kind: 'pglite',
        dataDir: target,
        ...(process.env.BENCH_AUTOVACUUM === 'off' ? { autovacuumMs: false as const } : {}),
      },
);
const unlimited = { userPerMinute: 1e9, orgPerMinute: 1e9 };
// The product's own model port (integrations, price overrides, response cache) in front of the simulator.
const secrets = new SecretBox(parseKeyring(`bench:${generateKey()}`));
const app = await buildApp({
  db,
  secrets,
  logLevel: 'warn',
  settings: {
    rateLimits: {
      tiers: { starter: unlimited, professional: unlimited, business: unlimited, enterprise: unlimited },
      anonymousPerMinute: 1e9,
    },
  },
});
const worker = new Worker(
  db,
  app.engine.model,
  { concurrency: Number(process.env.BENCH_WORKER_CONCURRENCY ?? 256), claimBatch: 64 },
  app.log,
);
await worker.start();
// As `aiops start` does: runs started through this API go straight to this process's worker.
app.engine.runs.useLocalWorker(worker);
worker.reportTo(app.engine.watcher);
// BENCH_OUTBOX=1: also the trigger and outbox loops `aiops start` runs beside its worker (events dispatched).
const loops =
  process.env.BENCH_OUTBOX === '1'
    ? startTriggerLoop({ db, secrets, runs: app.engine.runs, log: app.log, config: loadConfig({}) })
    : undefined;
// The bench counts runs in the database (not only HTTP answers). Outside /api/v1, for the bench only.
app.get<{ Params: { workflowId: string } }>('/bench/runs/:workflowId', async (request) => {
  const rows = await db.system((tx) =>
    queryRows<{ status: string; n: number }>(
      tx,
      sql`SELECT status, count(*)::int AS n FROM workflow_executions
          WHERE workflow_id = ${request.params.workflowId} GROUP BY status`,
    ),
  );
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
});
// CPU spent so far (ms) by this process and, on a PostgreSQL on this machine, by its pool's backends
// (from /proc): the bench divides it by runs, a cost per run that the machine's load does not skew.
app.get('/bench/cpu', async () => {
  const u = process.cpuUsage();
  let database: Record<string, number> | null = null;
  if (db.kind === 'postgres') {
    const pids = await db.system((tx) =>
      queryRows<{ pid: number }>(
        tx,
        sql`SELECT pid FROM pg_stat_activity WHERE datname = current_database()`,
      ),
    );
    database = {};
    for (const { pid } of pids) {
      try {
        const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
        database[pid] = (Number(f[11]) + Number(f[12])) * 10; // clock ticks of 10 ms
      } catch {
        database = null;
        break;
      }
    }
  }
  return { server: (u.user + u.system) / 1000, database };
});
const url = await app.listen({ host: '127.0.0.1', port: 0 });
process.stdout.write(`READY ${url}\n`);
process.on('SIGTERM', async () => {
  await loops?.stop();
  await worker.stop(2000);
  await app.close();
  await db.close();
  process.exit(0);
});
