import { randomUUID } from 'node:crypto';
import { organizations, queryRows } from '@aiops/db';
import { createWorkflow, Runs, Worker } from '@aiops/engine';
import { createSimulatorProvider, warmTokenizer } from '@aiops/providers';
import { createTestDatabase } from '@aiops/testing';
import { sql } from 'drizzle-orm';

warmTokenizer();
const t = await createTestDatabase({ poolSize: 24 });
const db = t.db;
const orgId = randomUUID();
await db.system((tx) => tx.insert(organizations).values({ id: orgId, name: 'b', slug: orgId }));
const wf = await db.withTenant(orgId, (tx) =>
  createWorkflow(tx, {
    organizationId: orgId,
    definition: {
      name: 'b',
      nodes: ['a', 'b', 'c'].map((id) => ({
        id,
        type: 'agent',
        agent: { model: 'simulator:echo', prompt: id },
      })),
      connections: [
        { from: 'a', to: 'b' },
        { from: 'b', to: 'c' },
      ],
    },
  }),
);
const runs = new Runs(db);
const N = Number(process.env.N ?? 500);
const workers = Number(process.env.W ?? 1);
const ws: Worker[] = [];
for (let i = 0; i < workers; i++) {
  const w = new Worker(db, createSimulatorProvider(), {
    ...(process.env.DEBUG ? {} : {}),
    pollMs: 20,
    concurrency: 64,
    claimBatch: 32,
  });
  await w.start();
  ws.push(w);
}
const t0 = performance.now();
const ids: string[] = [];
const C = Number(process.env.C ?? 16);
let next = 0;
await Promise.all(
  Array.from({ length: C }, async () => {
    while (next < N) {
      next++;
      ids.push((await runs.start({ organizationId: orgId, workflowId: wf.id, input: {} })).id);
    }
  }),
);
const t1 = performance.now();
if (workers > 0)
  for (;;) {
    const [r] = await db.system((tx) =>
      queryRows<{ n: number }>(
        tx,
        sql`SELECT count(*)::int n FROM workflow_executions WHERE status <> 'completed'`,
      ),
    );
    if (r!.n === 0) break;
    await new Promise((r) => setTimeout(r, 10));
  }
const t2 = performance.now();
const [lost] = await db.system((tx) =>
  queryRows<{ n: number }>(tx, sql`SELECT count(*)::int n FROM agent_executions WHERE status <> 'completed'`),
);
console.log(
  db.kind,
  `workers=${workers} runs=${N} create ${(N / ((t1 - t0) / 1000)).toFixed(0)}/s, all done ${(N / ((t2 - t0) / 1000)).toFixed(0)} runs/s, non-completed attempts ${lost!.n}`,
);
console.log(
  await db.system((tx) =>
    queryRows(
      tx,
      sql`SELECT status, status_reason, count(*)::int FROM agent_executions WHERE status <> 'completed' GROUP BY 1,2 LIMIT 5`,
    ),
  ),
);
for (const w of ws) await w.stop(100);
await t.destroy();
