/**
 * The PGlite crash test's process: `node --import tsx pglite-child.ts <dataDir> seed|work|report`.
 * seed: creates an org, the crash workflow and runs (leased to a local worker as they are created, then
 * abandoned); work: runs two workers until killed;
 * report: waits for every run to finish and prints a JSON report.
 */
import { randomUUID } from 'node:crypto';
import { openDb, organizations, queryRows } from '@aiops/db';
import { createSimulatorProvider, warmTokenizer } from '@aiops/providers';
import { sql } from 'drizzle-orm';
import { createWorkflow, Runs, Worker } from '../src/index.ts';
import { crashWorkflow } from './crash-workflow.ts';

const [dataDir, mode, runsArg] = process.argv.slice(2);
warmTokenizer();
const db = await openDb({ kind: 'pglite', dataDir: dataDir! });
const options = { concurrency: 8, claimBatch: 8, leaseMs: 600, heartbeatMs: 150, pollMs: 30, sweepMs: 100 };

if (mode === 'seed') {
  const orgId = randomUUID();
  await db.system((tx) =>
    tx
      .insert(organizations)
      .values({ id: orgId, name: 'crash', slug: orgId, monthlyExecutionQuota: 1_000_000_000 }),
  );
  const wf = await db.withTenant(orgId, (tx) =>
    createWorkflow(tx, { organizationId: orgId, definition: crashWorkflow(100), status: 'active' }),
  );
  // Runs started beside a local worker are leased to it as they are created; the process then dies
  // with those leases held (no stop, no release), so the crash also covers steps leased at creation.
  const local = new Worker(db, createSimulatorProvider(), { ...options, workerId: `seed-${process.pid}` });
  await local.start();
  const runs = new Runs(db);
  runs.useLocalWorker(local);
  for (let i = 0; i < Number(runsArg ?? 50); i++) {
    await runs.start({ organizationId: orgId, workflowId: wf.id, input: { i } });
  }
  process.stdout.write('seeded\n');
  process.exit(0);
}

const workers = [
  new Worker(db, createSimulatorProvider(), { ...options, workerId: `w1-${process.pid}` }),
  new Worker(db, createSimulatorProvider(), { ...options, workerId: `w2-${process.pid}` }),
];
for (const w of workers) await w.start();
process.stdout.write('ready\n');

if (mode === 'report') {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const [open] = await db.system((tx) =>
      queryRows<{ n: number }>(
        tx,
        sql`SELECT count(*)::int AS n FROM workflow_executions WHERE status NOT IN ('completed', 'failed', 'cancelled', 'timeout')`,
      ),
    );
    if (open!.n === 0 || Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const report = await db.system(async (tx) => ({
    runs: await queryRows(
      tx,
      sql`SELECT input_data->>'i' AS i, status, output_data FROM workflow_executions`,
    ),
    duplicates: await queryRows(
      tx,
      sql`SELECT workflow_execution_id, node_id, count(*)::int AS n FROM agent_executions WHERE status = 'completed' GROUP BY 1, 2 HAVING count(*) > 1`,
    ),
    lost: (
      await queryRows<{ n: number }>(
        tx,
        sql`SELECT count(*)::int AS n FROM agent_executions WHERE status_reason LIKE 'worker lost%'`,
      )
    )[0]!.n,
    stepsNotCompleted: (
      await queryRows<{ n: number }>(
        tx,
        sql`SELECT count(*)::int AS n FROM run_steps WHERE status <> 'completed'`,
      )
    )[0]!.n,
  }));
  for (const w of workers) await w.stop(1000);
  await db.close();
  process.stdout.write(`REPORT ${JSON.stringify(report)}\n`);
  process.exit(0);
}

if (mode === 'work') {
  // Tells the test when this process has completed steps of its own (it kills only after some progress).
  const completed = async () =>
    (
      await db.system((tx) =>
        queryRows<{ n: number }>(
          tx,
          sql`SELECT count(*)::int AS n FROM agent_executions WHERE status = 'completed'`,
        ),
      )
    )[0]!.n;
  const before = await completed();
  let reported = 0;
  const open = async () =>
    (
      await db.system((tx) =>
        queryRows<{ n: number }>(
          tx,
          sql`SELECT count(*)::int AS n FROM workflow_executions WHERE status NOT IN ('completed', 'failed', 'cancelled', 'timeout')`,
        ),
      )
    )[0]!.n;
  const poll = async (): Promise<void> => {
    const n = (await completed()) - before;
    if (n > reported) {
      reported = n;
      process.stdout.write(`progress ${n}\n`);
    }
    // Nothing left to run: no more progress will come.
    if ((await open()) === 0) process.stdout.write('progress all\n');
    else setTimeout(() => void poll(), 25);
  };
  void poll();
}
