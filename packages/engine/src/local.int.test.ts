import { queryRows } from '@aiops/db';
import { testBackend } from '@aiops/testing';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
