import { type Database, queryRows, type Tx, workflowExecutions } from '@aiops/db';
import { testBackend } from '@aiops/testing';
import { inArray, type SQL, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertRuns, type NewRun } from './sql/create-run.ts';
import { type EngineHarness, engineHarness } from './test-support.ts';

const echo = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  type: 'agent',
  agent: { model: 'simulator:echo', prompt: `step ${id}`, ...extra },
});

/** Each step of the run: when it was leased against when its run was created (now() is per transaction). */
async function leases(h: EngineHarness, runId: string) {
  return h.db.system((tx) =>
    queryRows<{ node_id: string; same_tx: boolean; attempt: number }>(
      tx,
      sql`SELECT s.node_id, s.started_at = e.created_at AS same_tx, s.attempt
          FROM run_steps s JOIN workflow_executions e ON e.id = s.run_id WHERE s.run_id = ${runId}`,
    ),
  );
}

describe(`a worker runs the runs its process creates on ${testBackend()}`, () => {
  let h: EngineHarness;
  beforeAll(async () => {
    // One slot, and no polling to speak of: only a lease at creation or a wake-up starts a step.
    h = await engineHarness({ worker: { concurrency: 1, claimBatch: 1, pollMs: 60_000 } });
  });
  afterAll(() => h.close());

  it('leases the entry step in the transaction that creates the run, and runs it', async () => {
    const wf = await h.createWorkflow({ name: 'local', nodes: [echo('a')] });
    const id = await h.start(wf);
    const run = await h.wait(id, 15_000);
    expect(run.status).toBe('completed');
    expect(await leases(h, id)).toEqual([{ node_id: 'a', same_tx: true, attempt: 1 }]);
  });

  it('beyond its capacity, created runs are left to the queue and still complete', async () => {
    const wf = await h.createWorkflow({
      name: 'busy',
      nodes: [echo('slow', { simulate: { latencyMs: 400 } })],
    });
    const ids = await Promise.all([h.start(wf), h.start(wf), h.start(wf)]);
    const runs = await Promise.all(ids.map((id) => h.wait(id, 20_000)));
    expect(runs.map((r) => r.status)).toEqual(['completed', 'completed', 'completed']);
    const all = (await Promise.all(ids.map((id) => leases(h, id)))).flat();
    // The lone slot took at most one step at creation; the others were claimed later, each exactly once.
    expect(all.filter((s) => s.same_tx).length).toBeLessThanOrEqual(1);
    expect(all.filter((s) => !s.same_tx).length).toBeGreaterThanOrEqual(2);
    expect(all.map((s) => s.attempt)).toEqual([1, 1, 1]);
  });
});

describe(`runs leased at creation to a worker that dies on ${testBackend()}`, () => {
  let h: EngineHarness;
  beforeAll(async () => {
    h = await engineHarness({ workers: 0 });
  });
  afterAll(() => h.close());

  it('are written once, already leased, and their steps are taken over when the lease expires', async () => {
    const wf = await h.createWorkflow({
      name: 'abandoned',
      nodes: [echo('a'), echo('b')],
      connections: [{ from: 'a', to: 'b' }],
    });
    // Created as a local worker's runs are (insertRuns with a lease), by a worker that then dies: it
    // never executes nor releases the steps leased to it.
    const { leased, writes } = await h.db.system(async (tx) => {
      const compiled = await h.runs.catalog.version(tx, wf, 1);
      const run: NewRun = {
        organizationId: h.orgId,
        compiled,
        expectCurrentVersion: true,
        input: {},
        agentPins: {},
        triggeredBy: 'api',
        timeoutMs: 60_000,
        maxRetries: 0,
      };
      const { leased } = await insertRuns(inTx(tx), [run, { ...run }], new Date(), {
        workerId: 'dead-worker',
        limit: 8,
        leaseMs: 300,
      });
      // Rows this transaction wrote: each run and step once (no update after the insert).
      const [writes] = await queryRows<Record<string, number>>(
        tx,
        sql`SELECT pg_stat_get_xact_tuples_inserted('workflow_executions'::regclass)::int AS runs_inserted,
                   pg_stat_get_xact_tuples_updated('workflow_executions'::regclass)::int AS runs_updated,
                   pg_stat_get_xact_tuples_inserted('run_steps'::regclass)::int AS steps_inserted,
                   pg_stat_get_xact_tuples_updated('run_steps'::regclass)::int AS steps_updated`,
      );
      return { leased, writes };
    });
    expect(writes).toEqual({ runs_inserted: 2, runs_updated: 0, steps_inserted: 4, steps_updated: 0 });
    expect(leased.map((s) => [s.nodeId, s.attempt, s.workflowId])).toEqual([
      ['a', 1, wf],
      ['a', 1, wf],
    ]);
    const ids = leased.map((s) => s.runId);
    const rows = await h.db.system((tx) =>
      queryRows<{ run: string; step: string; owner: string | null; started: boolean }>(
        tx,
        sql`SELECT e.status AS run, s.status AS step, s.lease_owner AS owner,
                   (e.started_at = e.created_at AND s.started_at = e.created_at) AS started
            FROM run_steps s JOIN workflow_executions e ON e.id = s.run_id
            WHERE s.run_id = ANY(${`{${ids.join(',')}}`}::uuid[]) AND s.node_id = 'a'`,
      ),
    );
    expect(rows).toEqual([
      { run: 'running', step: 'running', owner: 'dead-worker', started: true },
      { run: 'running', step: 'running', owner: 'dead-worker', started: true },
    ]);
    // A live worker's sweeper returns the expired leases to the queue; every run completes, each step once.
    await h.addWorker({ sweepMs: 100, pollMs: 50 });
    for (const id of ids) expect((await h.wait(id, 20_000)).status).toBe('completed');
    const attempts = await h.db.system((tx) =>
      queryRows<{ node_id: string; status: string; attempt: number; n: number }>(
        tx,
        sql`SELECT node_id, status, attempt, count(*)::int AS n FROM agent_executions
            WHERE workflow_execution_id = ANY(${`{${ids.join(',')}}`}::uuid[])
            GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`,
      ),
    );
    expect(attempts).toEqual([
      { node_id: 'a', status: 'completed', attempt: 2, n: 2 },
      { node_id: 'a', status: 'failed', attempt: 1, n: 2 },
      { node_id: 'b', status: 'completed', attempt: 1, n: 2 },
    ]);
  });

  it('say how each run was inserted, exactly as a select reads it back: leased, left pending, queued', async () => {
    const wf = await h.createWorkflow({ name: 'as-inserted', nodes: [echo('a')] });
    const { outcomes, rows } = await h.db.system(async (tx) => {
      const compiled = await h.runs.catalog.version(tx, wf, 1);
      const run = (key: string | null, i: number): NewRun => ({
        organizationId: h.orgId,
        compiled,
        expectCurrentVersion: true,
        input: { i, list: [1, 2.5, null], nested: { b: true, a: 'x' } },
        agentPins: {},
        triggeredBy: 'api',
        correlationId: crypto.randomUUID(),
        idempotencyKey: `as-inserted-${i}`,
        concurrencyKey: key,
        metadata: { i },
        timeoutMs: 90_000,
        maxRetries: 2,
      });
      // A lease of one step: one of the first two runs is leased, the other left to the queue; the third
      // shares the second's concurrency key, so it waits its turn.
      const { outcomes } = await insertRuns(inTx(tx), [run(null, 0), run('k', 1), run('k', 2)], new Date(), {
        workerId: 'dead-worker',
        limit: 1,
        leaseMs: 60_000,
      });
      const ids = outcomes.map((o) => (o.kind === 'created' ? o.id : ''));
      const rows = await tx.select().from(workflowExecutions).where(inArray(workflowExecutions.id, ids));
      return { outcomes, rows };
    });
    const created = outcomes.map((o) => (o.kind === 'created' ? o.run : undefined));
    expect(
      created
        .slice(0, 2)
        .map((r) => r?.status)
        .sort(),
    ).toEqual(['pending', 'running']);
    expect(created[2]?.status).toBe('queued');
    for (const run of created) expect(run).toEqual(rows.find((r) => r.id === run?.id));
  });
});

/** insertRuns' database handle running its statement in `tx` (to read what that transaction wrote). */
const inTx = (tx: Tx) => ({ statement: (q: SQL) => queryRows(tx, q) }) as unknown as Database;
