/**
 * No-op job throughput on one PostgreSQL: our engine (a job = a one-step run on the simulator at 0 ms:
 * claim, execute, record the attempt, complete the run), graphile-worker (with its local queue) and pg-boss,
 * each on a fresh database. Jobs are enqueued first; the clock runs from worker start to the last completion.
 */
import { randomUUID } from 'node:crypto';
import { openDb, organizations, queryRows } from '@aiops/db';
import { createWorkflow, Runs, Worker } from '@aiops/engine';
import { createSimulatorProvider, warmTokenizer } from '@aiops/providers';
import { createPostgresDatabase, dropPostgresDatabase } from '@aiops/testing';
import { sql } from 'drizzle-orm';
import { Logger, makeWorkerUtils, run as runGraphile } from 'graphile-worker';
import pg from 'pg';
import PgBoss from 'pg-boss';

let JOBS = 20_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function freshDb(adminUrl: string, bare: boolean): Promise<string> {
  if (!bare) return createPostgresDatabase(adminUrl);
  const name = `aiops_bench_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 6)}`;
  const c = new pg.Client({ connectionString: adminUrl });
  await c.connect();
  await c.query(`CREATE DATABASE ${name}`);
  await c.end();
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  return u.toString();
}

async function ours(url: string): Promise<number> {
  warmTokenizer();
  const db = await openDb({ kind: 'postgres', url, poolSize: 20, migrate: false });
  const orgId = randomUUID();
  await db.system((tx) =>
    tx
      .insert(organizations)
      .values({ id: orgId, name: 'bench', slug: orgId, monthlyExecutionQuota: 1_000_000_000 }),
  );
  const wf = await db.withTenant(orgId, (tx) =>
    createWorkflow(tx, {
      organizationId: orgId,
      definition: {
        name: 'noop',
        nodes: [{ id: 'a', type: 'agent', agent: { model: 'simulator:echo', prompt: 'x' } }],
      },
    }),
  );
  const runs = new Runs(db);
  let next = 0;
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (next < JOBS) {
        next++;
        await runs.start({ organizationId: orgId, workflowId: wf.id, input: {} });
      }
    }),
  );
  const worker = new Worker(db, createSimulatorProvider(), { concurrency: 512, claimBatch: 100, pollMs: 20 });
  // Counted as graphile-worker's and pg-boss's jobs are, in this process: the worker reports every batch
  // of runs it finished once that batch has committed (polling a count(*) every 20 ms cost the database
  // about a tenth of its CPU in this part). The database's count is checked once at the end.
  let done = 0;
  let finish!: () => void;
  const finished = new Promise<void>((r) => {
    finish = r;
  });
  worker.reportTo({
    begin: () => {},
    awaited: () => [],
    end: (_runs, ended) => {
      done += ended.length;
      if (done >= JOBS) finish();
    },
  });
  const t0 = performance.now();
  await worker.start();
  await finished;
  const elapsed = performance.now() - t0;
  await worker.stop(1000);
  const [row] = await db.system((tx) =>
    queryRows<{ n: number }>(
      tx,
      sql`SELECT count(*)::int AS n FROM workflow_executions WHERE status = 'completed'`,
    ),
  );
  await db.close();
  if (row!.n !== JOBS) throw new Error(`${row!.n} of ${JOBS} runs completed in the database`);
  return JOBS / (elapsed / 1000);
}

const quiet = new Logger(() => () => {});

async function graphile(url: string): Promise<number> {
  const utils = await makeWorkerUtils({ connectionString: url, logger: quiet });
  await utils.migrate();
  for (let i = 0; i < JOBS; i += 1000) {
    await utils.addJobs(
      Array.from({ length: Math.min(1000, JOBS - i) }, () => ({ identifier: 'noop', payload: {} })),
    );
  }
  await utils.release();
  let done = 0;
  let finish!: () => void;
  const finished = new Promise<void>((r) => {
    finish = r;
  });
  // Our own pool, so that its connections are closed (and their errors handled) before the database is dropped.
  const pgPool = new pg.Pool({ connectionString: url, max: 10 });
  pgPool.on('error', () => {});
  pgPool.on('connect', (client) => client.on('error', () => {}));
  const t0 = performance.now();
  const runner = await runGraphile({
    pgPool,
    preset: {
      worker: {
        connectionString: url,
        concurrentJobs: 24,
        maxPoolSize: 10,
        pollInterval: 1000,
        localQueue: { size: 500 },
        completeJobBatchDelay: 0,
        failJobBatchDelay: 0,
      },
    },
    noHandleSignals: true,
    logger: quiet,
    taskList: {
      noop: async () => {
        if (++done === JOBS) finish();
      },
    },
  });
  await finished;
  const elapsed = performance.now() - t0;
  await runner.stop();
  await pgPool.end();
  return JOBS / (elapsed / 1000);
}

async function pgBoss(url: string): Promise<number> {
  const boss = new PgBoss({ connectionString: url, max: 20, supervise: false, schedule: false });
  boss.on('error', () => {});
  await boss.start();
  await boss.createQueue('noop');
  for (let i = 0; i < JOBS; i += 1000) {
    await boss.insert(Array.from({ length: Math.min(1000, JOBS - i) }, () => ({ name: 'noop', data: {} })));
  }
  let done = 0;
  const t0 = performance.now();
  // What pg-boss's work() does (fetch a batch, run it, complete it), in loops this script owns: work()'s
  // workers, stopped while a fetch waits for a pooled connection, never report stopped, and pg-boss's
  // wait-for-workers loop (a 1 s timer) then kept the process alive forever after the last line.
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (done < JOBS) {
        const jobs = await boss.fetch('noop', { batchSize: 500 });
        if (!jobs.length) {
          await sleep(10);
          continue;
        }
        await boss.complete(
          'noop',
          jobs.map((j) => j.id),
        );
        done += jobs.length;
      }
    }),
  );
  const elapsed = performance.now() - t0;
  await boss.stop({ graceful: true, wait: true, timeout: 10_000 });
  return JOBS / (elapsed / 1000);
}

export async function queueBenchmarks(adminUrl: string, jobs: number): Promise<[string, number][]> {
  JOBS = jobs;
  console.log(`\n[postgres] ${JOBS} no-op jobs, enqueued first, same server, one process each:`);
  const rows: [string, number][] = [];
  for (const [name, fn, bare] of [
    ['aiops engine (one-step runs)', ours, false],
    ['graphile-worker 0.17.3 (local queue 500)', graphile, true],
    ['pg-boss 10.4.2 (16 fetch/complete loops × batch 500)', pgBoss, true],
  ] as const) {
    const url = await freshDb(adminUrl, bare);
    try {
      const rate = await fn(url);
      console.log(`  ${name}: ${rate.toFixed(0)} jobs/s`);
      rows.push([name, rate]);
    } finally {
      await dropPostgresDatabase(adminUrl, url);
    }
  }
  return rows;
}
