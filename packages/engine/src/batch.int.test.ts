import { queryRows } from '@aiops/db';
import { testBackend } from '@aiops/testing';
import { sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { type EngineHarness, engineHarness } from './test-support.ts';

describe(`large batches on ${testBackend()}`, () => {
  let h: EngineHarness;
  afterAll(() => h?.close());

  it('a worker claims and completes 400 steps in one batch (announcements split under the NOTIFY size limit)', async () => {
    h = await engineHarness({ workers: 0 });
    const wf = await h.createWorkflow({
      name: 'wide',
      nodes: [{ id: 'a', type: 'agent', agent: { model: 'simulator:echo', prompt: 'x' } }],
    });
    const ids: string[] = [];
    for (let i = 0; i < 400; i++) ids.push(await h.start(wf, {}));
    await h.addWorker({ claimBatch: 400, concurrency: 400 });
    await expect
      .poll(
        async () =>
          (
            await h.db.system((tx) =>
              queryRows<{ n: number }>(
                tx,
                sql`SELECT count(*)::int AS n FROM workflow_executions WHERE status = 'completed'`,
              ),
            )
          )[0]!.n,
        { timeout: 60_000, interval: 200 },
      )
      .toBe(400);
    const [leftover] = await h.db.system((tx) =>
      queryRows<{ n: number }>(tx, sql`SELECT count(*)::int AS n FROM run_steps WHERE status <> 'completed'`),
    );
    expect(leftover!.n).toBe(0);
  });
});
