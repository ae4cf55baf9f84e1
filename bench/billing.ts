/**
 * `node --import tsx bench/billing.ts`: what the usage ledger's triggers cost the engine. One-step sync runs
 * (simulator, 0 ms) started one after another through the API on PostgreSQL (DATABASE_URL, default the
 * local test server) or PGlite (BENCH_BACKEND=pglite), in rounds that alternate ledger triggers on and
 * off (ALTER TABLE … DISABLE TRIGGER), so load on the machine hits both alike. Prints runs/s per round and
 * the medians. Env: BENCH_RUNS (per round, 150), BENCH_ROUNDS (per side, 3).
 */
import { sql } from 'drizzle-orm';
import { call, signUp, startTestServer } from '../apps/server/src/test-support.ts';

if (process.env.BENCH_BACKEND !== 'pglite')
  process.env.DATABASE_URL ??= 'postgres://postgres@127.0.0.1:5432/test';
else delete process.env.DATABASE_URL;
const RUNS = Number(process.env.BENCH_RUNS ?? 150);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

const s = await startTestServer({ worker: true, logLevel: 'warn' });
try {
  const owner = await signUp(s);
  await s.database.db.system((tx) =>
    tx.execute(
      sql`UPDATE organizations SET monthly_execution_quota = 2000000000 WHERE id = ${owner.organizationId}`,
    ),
  );
  const wf = await call(s, 'POST', '/api/v1/workflows', {
    token: owner.token,
    body: {
      name: 'bench',
      status: 'active',
      definition: {
        name: 'bench',
        nodes: [{ id: 'a', type: 'agent', agent: { model: 'simulator:echo', prompt: 'hi' } }],
      },
    },
  });
  const runOnce = async () => {
    const r = await call(s, 'POST', `/api/v1/workflows/${wf.body.id}/runs`, {
      token: owner.token,
      body: { input: {}, wait: 30 },
    });
    if (r.body.status !== 'completed') throw new Error(`run ${r.status} ${JSON.stringify(r.body)}`);
  };
  const setTriggers = (on: boolean) =>
    s.database.db.system(async (tx) => {
      const verb = on ? sql.raw('ENABLE') : sql.raw('DISABLE');
      await tx.execute(sql`ALTER TABLE workflow_executions ${verb} TRIGGER workflow_executions_usage`);
      await tx.execute(sql`ALTER TABLE agent_executions ${verb} TRIGGER agent_executions_usage`);
    });
  for (let i = 0; i < 30; i++) await runOnce(); // warm-up
  const rates: Record<'on' | 'off', number[]> = { on: [], off: [] };
  for (let round = 0; round < ROUNDS * 2; round++) {
    const side = round % 2 === 0 ? 'on' : 'off';
    await setTriggers(side === 'on');
    const t0 = performance.now();
    for (let i = 0; i < RUNS; i++) await runOnce();
    const rate = RUNS / ((performance.now() - t0) / 1000);
    rates[side].push(rate);
    console.log(`round ${round + 1}: ledger ${side.padEnd(3)} ${rate.toFixed(1)} runs/s`);
  }
  await setTriggers(true);
  const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
  const on = median(rates.on);
  const off = median(rates.off);
  console.log(
    `${process.env.DATABASE_URL ? 'postgres' : 'pglite'}: median ledger on ${on.toFixed(1)} runs/s, off ${off.toFixed(1)} runs/s (${(((on - off) / off) * 100).toFixed(1)}%)`,
  );
  const [rows] = await s.database.db
    .system((tx) =>
      tx.execute(
        sql`SELECT count(*)::int AS n FROM usage_records WHERE organization_id = ${owner.organizationId}`,
      ),
    )
    .then((r) => (r as unknown as { rows: { n: number }[] }).rows);
  console.log(`ledger rows written: ${rows!.n}`);
} finally {
  await s.close();
}
