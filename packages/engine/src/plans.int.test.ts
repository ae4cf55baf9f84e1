import { queryRows } from '@aiops/db';
import { createTestDatabase, type TestDatabase, testBackend } from '@aiops/testing';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GENERIC_PLAN_BATCH, selectForBatch } from './sql/plans.ts';

/** The engine's functions on the path of every run (migration 0046). */
const ENGINE_FUNCTIONS = [
  'aiops_complete_steps_any_org',
  'aiops_record_observations',
  'aiops_read_runs',
  'aiops_create_and_lease',
  'aiops_lease_steps_any_org',
];
/**
 * Run creation and the claim keep the planner's choice: with enable_seqscan off, 1-step async runs on
 * PostgreSQL measured about 10% fewer runs/s and more database CPU per run (migration 0046's comment).
 */
const PLANNER_CHOICE = ['aiops_create_runs_any_org', 'aiops_claim_steps_any_org'];

/** Small batches run the engine's functions with generic plans, for their own statement only (plans.ts). */
describe(`plans chosen by a batch's size on ${testBackend()}`, () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase({ poolSize: 1 });
  });
  afterAll(() => t?.destroy());

  const mode = (size: number) =>
    queryRows<{ m: string }>(t.db.db, selectForBatch(size, sql`current_setting('plan_cache_mode') AS m`));
  const now = () => queryRows<{ m: string }>(t.db.db, sql`SELECT current_setting('plan_cache_mode') AS m`);

  it('uses generic plans up to GENERIC_PLAN_BATCH items and only within that statement', async () => {
    expect(await mode(1)).toEqual([{ m: 'force_generic_plan' }]);
    expect(await now()).toEqual([{ m: 'auto' }]);
    expect(await mode(GENERIC_PLAN_BATCH)).toEqual([{ m: 'force_generic_plan' }]);
    expect(await mode(GENERIC_PLAN_BATCH + 1)).toEqual([{ m: 'auto' }]);
    expect(await now()).toEqual([{ m: 'auto' }]);
  });

  it('a statement that fails leaves the session as it was', async () => {
    await expect(queryRows(t.db.db, selectForBatch(1, sql`1 / 0 AS m`))).rejects.toThrow();
    expect(await now()).toEqual([{ m: 'auto' }]);
  });

  it("runs the engine's functions on the path of every run with enable_seqscan off, leaving the session's as it was", async () => {
    // A generic plan made while a new database's tables are small scans them whole, until an ANALYZE
    // (migration 0046); these functions read rows by key, so their plans must probe the indexes.
    const settingsOf = (names: string[]) =>
      queryRows<{ name: string; config: string[] | null }>(
        t.db.db,
        sql`SELECT p.proname AS name, p.proconfig AS config FROM pg_proc p
            WHERE p.pronamespace = 'public'::regnamespace AND p.proname = ANY(${`{${names.join(',')}}`}::text[]) ORDER BY 1`,
      );
    const rows = await settingsOf(ENGINE_FUNCTIONS);
    expect(rows.map((r) => r.name)).toEqual([...ENGINE_FUNCTIONS].sort());
    for (const r of rows) expect(r.config, r.name).toContain('enable_seqscan=off');
    const others = await settingsOf(PLANNER_CHOICE);
    expect(others).toHaveLength(PLANNER_CHOICE.length);
    for (const r of others) expect(r.config, r.name).not.toContain('enable_seqscan=off');
    await queryRows(t.db.db, sql`SELECT count(*) FROM aiops_read_runs(NULL, '{}'::uuid[])`);
    expect(await queryRows(t.db.db, sql`SELECT current_setting('enable_seqscan') AS m`)).toEqual([
      { m: 'on' },
    ]);
  });
});
