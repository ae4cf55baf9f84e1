import { createTestDatabase, type TestDatabase } from '@aiops/testing';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from './open.ts';
import { queryRows } from './types.ts';

/**
 * `db.prepared` runs a statement by name: parsed once per connection, then bound and executed. Rows read
 * as Drizzle's raw queries read them; errors reach the caller and leave the connection usable.
 */
let t: TestDatabase;
let db: Database;

beforeAll(async () => {
  // One connection on PostgreSQL, so that the session that prepared the statement is the one asked.
  t = await createTestDatabase({ poolSize: 1 });
  db = t.db;
});
afterAll(async () => t?.destroy());

const probe = (tag: string, n: number | null, doc: string) =>
  sql`SELECT ${tag}::text AS tag, ${n}::int AS n, ${doc}::jsonb AS doc,
        '2026-01-02 03:04:05+00'::timestamptz AS at, ARRAY[1, 2]::int[] AS xs`;

describe('prepared statements', () => {
  it('reads rows as a raw Drizzle query does, and prepares a text once', async () => {
    const doc = JSON.stringify({ a: '42', b: [1, null] });
    const [viaPrepared] = await db.prepared<Record<string, unknown>>(probe('first', 7, doc));
    const [viaDrizzle] = await queryRows<Record<string, unknown>>(db.db, probe('first', 7, doc));
    expect(viaPrepared).toEqual(viaDrizzle);
    expect(viaPrepared).toMatchObject({ tag: 'first', n: 7, doc: { a: '42', b: [1, null] }, xs: [1, 2] });
    expect(typeof viaPrepared!.at).toBe('string');

    const second = await db.prepared<{ tag: string; n: number | null }>(probe('second', null, '"42"'));
    expect(second).toEqual([expect.objectContaining({ tag: 'second', n: null, doc: '42' })]);
    const named = await queryRows<{ name: string; statement: string }>(
      db.db,
      sql`SELECT name, statement FROM pg_prepared_statements WHERE name LIKE 'aiops_%' AND statement LIKE '%AS xs'`,
    );
    expect(named).toHaveLength(1);
  });

  it('answers a failing statement with its error and keeps the connection usable', async () => {
    const failing = sql`SELECT (${'not a number'}::text)::int AS n`;
    await expect(db.prepared(failing)).rejects.toMatchObject({ code: '22P02' });
    // Parsed and prepared by the first call; fails again at execution.
    await expect(db.prepared(failing)).rejects.toMatchObject({ code: '22P02' });
    // A statement that does not parse is not remembered as prepared.
    const broken = sql`SELEC ${1}::int`;
    await expect(db.prepared(broken)).rejects.toMatchObject({ code: '42601' });
    await expect(db.prepared(broken)).rejects.toMatchObject({ code: '42601' });
    expect(await db.prepared<{ ok: number }>(sql`SELECT ${1}::int AS ok`)).toEqual([{ ok: 1 }]);
    // Not left inside a transaction: a later transaction commits.
    expect(await db.system((tx) => queryRows<{ ok: boolean }>(tx, sql`SELECT true AS ok`))).toEqual([
      { ok: true },
    ]);
  });

  it('commits its own transaction, and its notifications reach listeners', async () => {
    const got: string[] = [];
    const unlisten = await db.listen('aiops_prepared_test', (payload) => got.push(payload));
    try {
      await db.prepared(sql`SELECT pg_notify('aiops_prepared_test', ${'hello'}::text)`);
      const until = Date.now() + 5_000;
      while (!got.length && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
      expect(got).toEqual(['hello']);
    } finally {
      await unlisten();
    }
  });

  it('refuses a parameter it cannot pass as text', async () => {
    await expect(db.prepared(sql`SELECT ${{ a: 1 }}::jsonb AS doc`)).rejects.toThrow(/unsupported parameter/);
  });
});
