import { randomUUID } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from '@aiops/testing';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from './open.ts';
import { organizations } from './schema/index.ts';

/**
 * A jsonb value reads back as it was written through Drizzle: the driver parses jsonb (node-postgres and
 * PGlite alike), and our column type does not parse a string once more (drizzle-orm#3018: "42" came back
 * as 42, "{\"a\":1}" as an object).
 */
let t: TestDatabase;
let db: Database;

beforeAll(async () => {
  t = await createTestDatabase();
  db = t.db;
});
afterAll(async () => t?.destroy());

const values: unknown[] = [
  '42',
  'true',
  'null',
  '{"a":1}',
  '[1,2]',
  'plain text',
  '',
  42,
  true,
  { a: '1', b: [1, '2'] },
  ['3', { c: null }],
];

describe('jsonb columns', () => {
  it.each(values.map((v) => [JSON.stringify(v), v]))('read back %s as written', async (_, value) => {
    const id = randomUUID();
    await db.system((tx) =>
      tx
        .insert(organizations)
        .values({ id, name: 'j', slug: id, billingAddress: value as Record<string, unknown> }),
    );
    const [row] = await db.system((tx) =>
      tx.select({ v: organizations.billingAddress }).from(organizations).where(eq(organizations.id, id)),
    );
    expect(row!.v).toEqual(value);
    // Stored as that JSON value, not as its text.
    const [typed] = await db
      .system((tx) =>
        tx.execute(sql`SELECT jsonb_typeof(billing_address) AS t FROM organizations WHERE id = ${id}`),
      )
      .then((r) => (r as unknown as { rows: { t: string }[] }).rows);
    expect(typed!.t).toBe(
      value === null
        ? 'null'
        : Array.isArray(value)
          ? 'array'
          : typeof value === 'object'
            ? 'object'
            : typeof value,
    );
  });
});
