import { queryRows } from '@aiops/db';
import { createTestDatabase, type TestDatabase, testBackend } from '@aiops/testing';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GENERIC_PLAN_BATCH, selectForBatch } from './sql/plans.ts';

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
});
