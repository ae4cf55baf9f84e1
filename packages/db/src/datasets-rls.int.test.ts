import { randomUUID } from 'node:crypto';
import { createTestDatabase, type TestDatabase, testBackend } from '@aiops/testing';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from './open.ts';
import { queryRows, type Tx } from './types.ts';

/**
 * Datasets and experiments as the application role with direct SQL: each organization sees and writes
 * only its own datasets, items, experiments and experiment items; no tenant set, nothing at all.
 */
let t: TestDatabase;
let db: Database;
const a = randomUUID();
const b = randomUUID();
let datasetA: string;
let itemA: string;
let experimentA: string;

const one = async (tx: Tx, q: ReturnType<typeof sql>) => (await queryRows<{ id: string }>(tx, q))[0]!.id;
const as = <T>(org: string, fn: (tx: Tx) => Promise<T>) => db.withTenant(org, fn);
const TABLES = ['datasets', 'dataset_items', 'experiments', 'experiment_items'] as const;

async function failure(fn: () => Promise<unknown>): Promise<string> {
  try {
    await fn();
  } catch (e) {
    const err = e as { cause?: { message?: string }; message: string };
    return err.cause?.message ?? err.message;
  }
  return 'no error';
}

beforeAll(async () => {
  t = await createTestDatabase({ poolSize: 2 });
  db = t.db;
  await db.system(async (tx) => {
    for (const id of [a, b])
      await tx.execute(sql`INSERT INTO organizations (id, name, slug) VALUES (${id}, 'O', ${`o-${id}`})`);
  });
  await as(a, async (tx) => {
    const wf = await one(
      tx,
      sql`INSERT INTO workflows (organization_id, name, definition) VALUES (${a}, 'w', '{}') RETURNING id`,
    );
    datasetA = await one(
      tx,
      sql`INSERT INTO datasets (organization_id, name) VALUES (${a}, 'golden') RETURNING id`,
    );
    itemA = await one(
      tx,
      sql`INSERT INTO dataset_items (organization_id, dataset_id, input, added_in_version)
          VALUES (${a}, ${datasetA}, '{"q":"secret question"}', 2) RETURNING id`,
    );
    experimentA = await one(
      tx,
      sql`INSERT INTO experiments (organization_id, name, dataset_id, dataset_version, workflow_id, workflow_version,
            evaluators, total_items) VALUES (${a}, 'e', ${datasetA}, 2, ${wf}, 1, '[]', 1) RETURNING id`,
    );
    await tx.execute(
      sql`INSERT INTO experiment_items (organization_id, experiment_id, dataset_item_id, position)
          VALUES (${a}, ${experimentA}, ${itemA}, 1)`,
    );
  });
});
afterAll(() => t?.destroy());

describe(`datasets and experiments row-level security on ${testBackend()}`, () => {
  it('the owner organization sees its rows; another sees none; no tenant sees none', async () => {
    for (const table of TABLES) {
      const mine = await as(a, (tx) => queryRows(tx, sql`SELECT 1 FROM ${sql.identifier(table)}`));
      expect(mine, table).toHaveLength(1);
      const theirs = await as(b, (tx) => queryRows(tx, sql`SELECT 1 FROM ${sql.identifier(table)}`));
      expect(theirs, table).toEqual([]);
      const none = await queryRows(db.db, sql`SELECT 1 FROM ${sql.identifier(table)}`);
      expect(none, table).toEqual([]);
    }
  });

  it("another organization can neither change nor add rows into the owner's data", async () => {
    const changed = await as(b, (tx) =>
      queryRows(tx, sql`UPDATE dataset_items SET input = '"x"' WHERE id = ${itemA} RETURNING id`),
    );
    expect(changed).toEqual([]);
    const removed = await as(b, (tx) =>
      queryRows(tx, sql`DELETE FROM experiments WHERE id = ${experimentA} RETURNING id`),
    );
    expect(removed).toEqual([]);
    const forged = await failure(() =>
      as(b, (tx) =>
        tx.execute(
          sql`INSERT INTO dataset_items (organization_id, dataset_id, input, added_in_version) VALUES (${a}, ${datasetA}, '1', 3)`,
        ),
      ),
    );
    expect(forged).toMatch(/row-level security/);
    const forgedExp = await failure(() =>
      as(b, (tx) =>
        tx.execute(
          sql`INSERT INTO experiment_items (organization_id, experiment_id, dataset_item_id, position) VALUES (${a}, ${experimentA}, ${itemA}, 2)`,
        ),
      ),
    );
    expect(forgedExp).toMatch(/row-level security/);
    const still = await as(a, (tx) =>
      queryRows<{ input: unknown }>(tx, sql`SELECT input FROM dataset_items WHERE id = ${itemA}`),
    );
    expect(still).toEqual([{ input: { q: 'secret question' } }]);
  });
});
