import { createTestDatabase, type TestDatabase, testBackend } from '@aiops/testing';
import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { releasePooledClientsOnFailure } from './pg-transaction.ts';
import { queryRows } from './types.ts';

/** A pool whose one client fails the statements `failing` names, recording what it runs and how it is released. */
class FakePool extends pg.Pool {
  readonly ran: string[] = [];
  readonly released: (Error | undefined)[] = [];
  constructor(private readonly failing: RegExp) {
    super();
  }
  // @ts-expect-error: a fake client is enough for Drizzle's session
  override async connect() {
    return {
      query: async (q: string | { text: string }) => {
        const text = typeof q === 'string' ? q : q.text;
        this.ran.push(text);
        if (this.failing.test(text)) throw new Error(`Connection terminated unexpectedly (${text})`);
        return { rows: [], rowCount: 0, fields: [], command: 'SELECT' };
      },
      release: (err?: Error) => {
        this.released.push(err);
      },
    };
  }
}

describe('pooled transactions (node-postgres)', () => {
  releasePooledClientsOnFailure();

  it('give the client back, destroyed, when BEGIN fails; the transaction does not run', async () => {
    const pool = new FakePool(/^begin/);
    let ran = false;
    const err = await drizzle({ client: pool as never })
      .transaction(async () => {
        ran = true;
      })
      .catch((e: Error & { cause?: Error }) => e);
    expect(String((err as { cause?: Error }).cause?.message)).toMatch(/Connection terminated unexpectedly/);
    expect(ran).toBe(false);
    expect(pool.released).toHaveLength(1);
    expect(pool.released[0]).toBeInstanceOf(Error);
  });

  it("destroy the client when ROLLBACK fails, and answer the transaction's own error", async () => {
    const pool = new FakePool(/^rollback/);
    await expect(
      drizzle({ client: pool as never }).transaction(async () => {
        throw new Error('the work failed');
      }),
    ).rejects.toThrow('the work failed');
    expect(pool.ran).toEqual(['begin', 'rollback']);
    expect(pool.released).toHaveLength(1);
    expect(pool.released[0]?.message).toMatch(/rollback/);
  });

  it('give a healthy client back as healthy', async () => {
    const pool = new FakePool(/^$/);
    const db = drizzle({ client: pool as never });
    expect(await db.transaction(async () => 7)).toBe(7);
    await expect(
      db.transaction(async () => {
        throw new Error('no');
      }),
    ).rejects.toThrow('no');
    expect(pool.ran).toEqual(['begin', 'commit', 'begin', 'rollback']);
    expect(pool.released).toEqual([undefined, undefined]);
  });
});

describe.skipIf(testBackend() !== 'postgres')('a pool whose connections PostgreSQL terminated', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase({ poolSize: 2 });
  });
  afterAll(async () => t?.destroy());

  it('keeps serving transactions (no client is lost when BEGIN meets a dead connection)', async () => {
    const admin = new pg.Client({ connectionString: t.url });
    await admin.connect();
    try {
      let failed = 0;
      const attempt = () => t.db.system((tx) => tx.execute(sql`SELECT pg_sleep(0.01)`)).catch(() => failed++);
      for (let round = 0; round < 15; round++) {
        // Both pooled connections open and idle, then ended by the server; transactions start at once.
        await Promise.all([attempt(), attempt()]);
        await admin.query(
          `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
            WHERE datname = current_database() AND pid <> pg_backend_pid()`,
        );
        await Promise.all([attempt(), attempt()]);
      }
      expect(failed).toBeGreaterThan(0); // the rounds did meet dead connections
      // The pool still has its two clients: more transactions than it has room for all get one.
      await new Promise((r) => setTimeout(r, 100));
      const rows = await Promise.all(
        [1, 2, 3, 4].map((n) =>
          t.db.system((tx) => queryRows<{ n: number }>(tx, sql`SELECT ${n}::int AS n`)),
        ),
      );
      expect(rows.map(([r]) => r?.n)).toEqual([1, 2, 3, 4]);
      expect(t.db.poolStats?.().total).toBeLessThanOrEqual(2);
      expect(t.db.poolStats?.().waiting).toBe(0);
    } finally {
      await admin.end();
    }
  }, 60_000);
});
