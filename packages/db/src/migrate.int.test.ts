import { testDatabaseUrl } from '@aiops/config';
import { createPostgresDatabase, dropPostgresDatabase, testBackend } from '@aiops/testing';
import { getTableName, is, sql } from 'drizzle-orm';
import { PgTable } from 'drizzle-orm/pg-core';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { expectedMigrations, migratePostgres } from './migrate.ts';
import { openDb } from './open.ts';
import * as schema from './schema/index.ts';
import { queryRows } from './types.ts';

/**
 * Every table of the Drizzle schema, plus those created by custom SQL: `embeddings` (migration 0002) and the
 * month-partitioned `agent_metrics`. Partitions themselves are not counted (they come and go by month).
 */
const TABLES = [
  ...new Set([
    ...Object.values(schema)
      .filter((v) => is(v, PgTable))
      .map((t) => getTableName(t as PgTable)),
    'embeddings',
    'agent_metrics',
  ]),
].sort();

async function tables(db: Awaited<ReturnType<typeof openDb>>) {
  const rows = await db.system((tx) =>
    queryRows<{ t: string }>(
      tx,
      sql`SELECT c.relname AS t FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition ORDER BY 1`,
    ),
  );
  return rows.map((r) => r.t).sort();
}

describe(`migrations on ${testBackend()}`, () => {
  it('apply cleanly on a new database, and applying them again is a no-op', async () => {
    const adminUrl = testDatabaseUrl();
    if (!adminUrl) {
      const db = await openDb({ kind: 'pglite', dataDir: 'memory' });
      expect(await db.status()).toEqual({
        reachable: true,
        migrations: { applied: expectedMigrations(), expected: expectedMigrations() },
      });
      expect(await tables(db)).toEqual(TABLES);
      await db.close();
      return;
    }
    // An empty database (not the migrated template): create it bare.
    const url = await createPostgresDatabase(adminUrl);
    const bare = new URL(url);
    bare.pathname = `${bare.pathname}_bare`;
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${bare.pathname.slice(1)}`);
    await admin.end();
    try {
      // Two processes starting at once: the advisory lock lets one migrate, the other finds nothing to do.
      await Promise.all([migratePostgres(bare.toString()), migratePostgres(bare.toString())]);
      await migratePostgres(bare.toString());
      const db = await openDb({ kind: 'postgres', url: bare.toString(), migrate: false });
      expect(await db.status()).toEqual({
        reachable: true,
        migrations: { applied: expectedMigrations(), expected: expectedMigrations() },
      });
      expect(await tables(db)).toEqual(TABLES);
      await db.close();
    } finally {
      await dropPostgresDatabase(adminUrl, bare.toString());
      await dropPostgresDatabase(adminUrl, url);
    }
  });

  it('reopening a migrated PGlite directory applies nothing new', async () => {
    if (testBackend() !== 'pglite') return;
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dir = `${mkdtempSync(`${tmpdir()}/aiops-migrate-`)}/data`;
    try {
      const first = await openDb({ kind: 'pglite', dataDir: dir });
      await first.close();
      const second = await openDb({ kind: 'pglite', dataDir: dir });
      expect((await second.status()).migrations.applied).toBe(expectedMigrations());
      const [row] = await second.system((tx) =>
        queryRows<{ n: number }>(tx, sql`SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations`),
      );
      expect(row!.n).toBe(expectedMigrations());
      await second.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
      rmSync(`${dir}.lock`, { force: true });
    }
  });
});
