import { monitorEventLoopDelay } from 'node:perf_hooks';
import { queryRows } from '@aiops/db';
import { Worker } from '@aiops/engine';
import { createSimulatorProvider } from '@aiops/providers';
import { sql } from 'drizzle-orm';
import { engineHarness } from '../packages/engine/src/test-support.ts';

const h = await engineHarness({ workers: 0 });
const log = {
  debug() {},
  info: (o: object, m?: string) => console.log('INFO', m, JSON.stringify(o).slice(0, 300)),
  warn: (o: object, m?: string) =>
    console.log('WARN', m, String((o as { err?: Error }).err?.message ?? JSON.stringify(o)).slice(0, 300)),
  error: (o: object, m?: string) =>
    console.log('ERROR', m, String((o as { err?: Error }).err?.stack ?? JSON.stringify(o)).slice(0, 600)),
};
const w = new Worker(
  h.db,
  createSimulatorProvider(),
  { workerId: 'x', concurrency: 8, claimBatch: 4, leaseMs: 2000, pollMs: 20, sweepMs: 100 },
  log,
);
await w.start();
const hist = monitorEventLoopDelay({ resolution: 10 });
hist.enable();
const wf = await h.createWorkflow({
  name: 'shared',
  nodes: ['a', 'b', 'c'].map((id) => ({
    id,
    type: 'agent',
    agent: { model: 'simulator:echo', prompt: id, simulate: { latencyMs: 5 } },
  })),
  connections: [
    { from: 'a', to: 'b' },
    { from: 'b', to: 'c' },
  ],
});
const t0 = Date.now();
const ids: string[] = [];
for (let i = 0; i < 200; i++) ids.push(await h.start(wf, { i }));
console.log('started in', Date.now() - t0);
for (const id of ids) await h.wait(id, 60_000);
console.log('done in', Date.now() - t0, 'max loop delay ms', hist.max / 1e6);
console.log(
  await h.db.system((tx) =>
    queryRows(
      tx,
      sql`SELECT status, status_reason, count(*)::int FROM agent_executions WHERE status <> 'completed' GROUP BY 1,2`,
    ),
  ),
);
await w.stop(100);
await h.close();
