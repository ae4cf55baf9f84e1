import { randomUUID } from 'node:crypto';
import { createTestDatabase, type TestDatabase, testBackend } from '@aiops/testing';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from './types.ts';

let t: TestDatabase;
const orgA = randomUUID();
const orgB = randomUUID();

beforeAll(async () => {
  t = await createTestDatabase();
  await t.db.system((tx) =>
    tx.execute(
      sql`INSERT INTO organizations (id, name, slug) VALUES (${orgA}, 'A', ${orgA}), (${orgB}, 'B', ${orgB})`,
    ),
  );
});
afterAll(() => t?.destroy());

describe(`embeddings on ${testBackend()}`, () => {
  it('uses pgvector on PGlite and the real[] fallback where the server has no pgvector', async () => {
    const [row] = await t.db.system((tx) =>
      queryRows<{ n: number }>(tx, sql`SELECT count(*)::int AS n FROM pg_extension WHERE extname = 'vector'`),
    );
    expect(t.db.embeddings.mode).toBe(row!.n === 1 ? 'pgvector' : 'fallback');
    if (testBackend() === 'pglite') expect(t.db.embeddings.mode).toBe('pgvector');
  });

  it('finds the nearest rows by cosine distance, within the tenant only', async () => {
    const { db } = t;
    await db.withTenant(orgA, async (tx) => {
      await db.embeddings.upsert(tx, {
        organizationId: orgA,
        namespace: 'mem',
        refId: 'east',
        content: 'east wind',
        embedding: [1, 0, 0],
      });
      await db.embeddings.upsert(tx, {
        organizationId: orgA,
        namespace: 'mem',
        refId: 'north',
        content: 'north star',
        embedding: [0, 1, 0],
      });
      await db.embeddings.upsert(tx, {
        organizationId: orgA,
        namespace: 'mem',
        refId: 'up',
        content: 'up high',
        embedding: [0, 0, 1],
      });
      await db.embeddings.upsert(tx, {
        organizationId: orgA,
        namespace: 'mem',
        refId: 'wide',
        content: 'wider',
        embedding: [1, 0, 0, 0],
      });
    });
    await db.withTenant(orgB, (tx) =>
      db.embeddings.upsert(tx, {
        organizationId: orgB,
        namespace: 'mem',
        refId: 'b-east',
        content: 'east',
        embedding: [1, 0, 0],
      }),
    );
    const found = await db.withTenant(orgA, (tx) =>
      db.embeddings.search(tx, { namespace: 'mem', embedding: [0.9, 0.3, 0], limit: 2 }),
    );
    expect(found.map((m) => m.refId)).toEqual(['east', 'north']);
    const expected = 1 - 0.9 / Math.sqrt(0.9 ** 2 + 0.3 ** 2);
    expect(found[0]!.distance).toBeCloseTo(expected, 5);

    // upsert replaces
    await db.withTenant(orgA, (tx) =>
      db.embeddings.upsert(tx, {
        organizationId: orgA,
        namespace: 'mem',
        refId: 'east',
        content: 'east wind',
        embedding: [0, -1, 0],
      }),
    );
    const again = await db.withTenant(orgA, (tx) =>
      db.embeddings.search(tx, { namespace: 'mem', embedding: [0, -1, 0], limit: 1 }),
    );
    expect(again[0]).toMatchObject({ refId: 'east', distance: expect.closeTo(0, 6) });
  });

  it('fuzzy text search with pg_trgm', async () => {
    const hits = await t.db.withTenant(orgA, (tx) =>
      t.db.embeddings.searchText(tx, { namespace: 'mem', text: 'nort star' }),
    );
    expect(hits[0]?.refId).toBe('north');
    expect(hits[0]!.similarity).toBeGreaterThan(0.3);
  });

  it('refuses an embedding that is empty or not finite', async () => {
    await expect(
      t.db.withTenant(orgA, (tx) =>
        t.db.embeddings.search(tx, { namespace: 'mem', embedding: [Number.NaN] }),
      ),
    ).rejects.toThrow(/finite/);
  });
});
