import { createTestDatabase, type TestDatabase } from '@aiops/testing';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from './open.ts';
import { queryRows } from './types.ts';

/**
 * `db.statement` runs one statement by itself: on PGlite by name (parsed once, then bound and executed),
 * on PostgreSQL as Drizzle sends it. Rows read as Drizzle's raw queries read them; errors reach the caller
 * with their SQLSTATE and leave the connection usable.
 */
let t: TestDatabase;
let db: Database;

beforeAll(async () => {
  t = await createTestDatabase({ poolSize: 1 });
  db = t.db;
});
afterAll(async () => t?.destroy());

const probe = (tag: string, n: number | null, doc: string) =>
  sql`SELECT ${tag}::text AS tag, ${n}::int AS n, ${doc}::jsonb AS doc,
        '2026-01-02 03:04:05+00'::timestamptz AS at, ARRAY[1, 2]::int[] AS xs, 1.50::numeric AS cost`;

describe('one statement by itself', () => {
  it('reads rows as a raw Drizzle query does', async () => {
    const doc = JSON.stringify({ a: '42', b: [1, null] });
    const [viaStatement] = await db.statement<Record<string, unknown>>(probe('first', 7, doc));
    const [viaDrizzle] = await queryRows<Record<string, unknown>>(db.db, probe('first', 7, doc));
    expect(viaStatement).toEqual(viaDrizzle);
    expect(viaStatement).toMatchObject({ tag: 'first', n: 7, doc: { a: '42', b: [1, null] }, xs: [1, 2] });
    expect(typeof viaStatement!.at).toBe('string');
    const second = await db.statement<{ tag: string; n: number | null }>(probe('second', null, '"42"'));
    expect(second).toEqual([expect.objectContaining({ tag: 'second', n: null, doc: '42' })]);
  });

  it.runIf(process.env.DATABASE_URL === undefined)('on PGlite, prepares a text once', async () => {
    await db.statement(probe('again', 1, '{}'));
    const named = await queryRows<{ name: string }>(
      db.db,
      sql`SELECT name FROM pg_prepared_statements WHERE name LIKE 'aiops_%' AND statement LIKE '%AS cost'`,
    );
    expect(named).toHaveLength(1);
  });

  it('answers a failing statement with its error and keeps the connection usable', async () => {
    const failing = sql`SELECT (${'not a number'}::text)::int AS n`;
    await expect(db.statement(failing)).rejects.toMatchObject({ code: '22P02' });
    // On PGlite parsed by the first call and prepared: it fails again at execution.
    await expect(db.statement(failing)).rejects.toMatchObject({ code: '22P02' });
    // A statement that does not parse is not remembered as prepared.
    const broken = sql`SELEC ${1}::int`;
    await expect(db.statement(broken)).rejects.toMatchObject({ code: '42601' });
    await expect(db.statement(broken)).rejects.toMatchObject({ code: '42601' });
    expect(await db.statement<{ ok: number }>(sql`SELECT ${1}::int AS ok`)).toEqual([{ ok: 1 }]);
    // Not left inside a transaction: a later transaction commits.
    expect(await db.system((tx) => queryRows<{ ok: boolean }>(tx, sql`SELECT true AS ok`))).toEqual([
      { ok: true },
    ]);
  });

  it("does not list its parameters in its error (Drizzle's wrapper does)", async () => {
    const secret = 'sk-do-not-log-1234';
    const err = await db
      .statement(sql`SELECT ${secret}::text AS s, 1 / (${0}::int) AS boom`)
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: '22012' });
    expect(String((err as Error).message)).not.toContain(secret.slice(0, 10));
  });

  it('commits its own transaction, and its notifications reach listeners', async () => {
    const got: string[] = [];
    const unlisten = await db.listen('aiops_statement_test', (payload) => got.push(payload));
    try {
      await db.statement(sql`SELECT pg_notify('aiops_statement_test', ${'hello'}::text)`);
      const until = Date.now() + 5_000;
      while (!got.length && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
      expect(got).toEqual(['hello']);
    } finally {
      await unlisten();
    }
  });

  it('refuses a parameter it cannot pass as text', async () => {
    await expect(db.statement(sql`SELECT ${{ a: 1 }}::jsonb AS doc`)).rejects.toThrow(
      /unsupported parameter/,
    );
  });
});
