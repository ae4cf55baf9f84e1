import { pgliteTemplate } from '@aiops/testing';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { type Database, openDb } from './open.ts';
import { queryRows } from './types.ts';

/** PGlite flushes its table statistics at most once a second; this asks for the next flush, then ends. */
async function flushStats(db: Database) {
  await db.system((tx) => tx.execute(sql`SELECT pg_stat_force_next_flush()`));
  await db.system((tx) => tx.execute(sql`SELECT 1`));
}

async function stats(db: Database, table: string) {
  const [row] = await db.system((tx) =>
    queryRows<{ dead: number; vacuums: number; analyzes: number }>(
      tx,
      sql`SELECT n_dead_tup::int AS dead, vacuum_count::int AS vacuums, analyze_count::int AS analyzes
          FROM pg_stat_user_tables WHERE relname = ${table}`,
    ),
  );
  return row!;
}

/** 2,000 rows updated three times: 6,000 dead row versions, far past 50 + 20 % of 2,000. */
async function churn(db: Database, table: string) {
  await db.system(async (tx) => {
    await tx.execute(sql.raw(`CREATE TABLE ${table} (id int PRIMARY KEY, n int)`));
    await tx.execute(sql.raw(`CREATE INDEX ON ${table} (n)`));
    await tx.execute(sql.raw(`INSERT INTO ${table} SELECT g, 0 FROM generate_series(1, 2000) g`));
  });
  for (let i = 0; i < 3; i++) await db.system((tx) => tx.execute(sql.raw(`UPDATE ${table} SET n = n + 1`)));
}

describe('the embedded database vacuums itself (PGlite has no autovacuum)', () => {
  it('vacuums the tables past autovacuum thresholds, analyzes those only changed a little, and leaves the rest', async () => {
    const db = await openDb({
      kind: 'pglite',
      dataDir: 'memory',
      loadDataDir: await pgliteTemplate(),
      autovacuumMs: false,
    });
    try {
      await churn(db, 'probe_churned');
      // 500 rows into a table never vacuumed: past the analyze threshold (50), not the insert one (1,000).
      await db.system(async (tx) => {
        await tx.execute(sql`CREATE TABLE probe_inserted (id int)`);
        await tx.execute(sql`INSERT INTO probe_inserted SELECT g FROM generate_series(1, 500) g`);
      });
      await flushStats(db);
      expect((await stats(db, 'probe_churned')).dead).toBeGreaterThanOrEqual(6000);

      const passes = await db.vacuum!();
      expect(passes.find((p) => p.table === 'public.probe_churned')?.action).toBe('vacuum');
      expect(passes.find((p) => p.table === 'public.probe_inserted')?.action).toBe('analyze');
      await flushStats(db);
      expect(await stats(db, 'probe_churned')).toMatchObject({ dead: 0, vacuums: 1, analyzes: 1 });
      expect(await stats(db, 'probe_inserted')).toMatchObject({ vacuums: 0, analyzes: 1 });

      // Nothing is due any more; the session is back to the application role, under row-level security.
      const again = await db.vacuum!();
      expect(again.map((p) => p.table)).not.toContain('public.probe_churned');
      expect(again.map((p) => p.table)).not.toContain('public.probe_inserted');
      const [who] = await queryRows<{ role: string }>(db.db, sql`SELECT current_user AS role`);
      expect(who!.role).toBe('aiops_app');
    } finally {
      await db.close();
    }
  });

  it('runs a pass by itself at its interval, and closing waits for it', async () => {
    const db = await openDb({
      kind: 'pglite',
      dataDir: 'memory',
      loadDataDir: await pgliteTemplate(),
      autovacuumMs: 200,
    });
    try {
      await churn(db, 'probe_timed');
      // A pass may also come between the churn's insert (past the insert threshold) and its updates, so
      // the table is vacuumed once or twice; either way by itself, and its dead rows end up gone.
      await expect
        .poll(
          async () => {
            await flushStats(db);
            const { vacuums, dead } = await stats(db, 'probe_timed');
            return { vacuumed: vacuums >= 1, dead };
          },
          { timeout: 20_000, interval: 250 },
        )
        .toEqual({ vacuumed: true, dead: 0 });
    } finally {
      await db.close();
    }
  });
});
