import { queryRows, type Tx, terminologyEntries } from '@aiops/db';
import { simulatorEmbedding } from '@aiops/providers';
import { testBackend } from '@aiops/testing';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type SignedUp, signUp, startTestServer, type TestServer } from '../../test-support.ts';
import { termText } from './embed.ts';
import { CANDIDATES, SEMANTIC_MIN_SIMILARITY } from './search.ts';
import { TermVectorCache } from './vector-cache.ts';

/**
 * The dictionary's version counter (`terminology_versions`, bumped by triggers on `terminology_entries`)
 * and the in-process vector cache it keeps fresh; row-level security on the counter, at the database.
 */
let s: TestServer;
let owner: SignedUp;
let other: SignedUp;
beforeAll(async () => {
  s = await startTestServer();
  owner = await signUp(s);
  other = await signUp(s);
});
afterAll(() => s?.close());

const api = (method: string, path: string, body?: unknown, token = owner.token) =>
  call(s, method, `/api/v1${path}`, { token, ...(body === undefined ? {} : { body }) });
const asOwner = <T>(fn: (tx: Tx) => Promise<T>) =>
  s.database.db.withTenant({ organizationId: owner.organizationId, userId: owner.userId }, fn);
const version = (organizationId = owner.organizationId) =>
  s.database.db.withTenant(organizationId, async (tx) => {
    const [row] = await queryRows<{ v: string }>(tx, sql`SELECT aiops_term_version() AS v`);
    return Number(row!.v);
  });

async function permissionError(fn: () => Promise<unknown>): Promise<string> {
  try {
    await fn();
  } catch (e) {
    return String((e as { cause?: Error }).cause?.message ?? (e as Error).message);
  }
  return 'no error';
}

describe(`terminology version counter on ${testBackend()}`, () => {
  it('insert, update and delete bump it in their transaction; a usage-only update does not; the vector cache reloads on each bump and only then', async () => {
    const cache = new TermVectorCache();
    const nearest = (text: string) =>
      asOwner((tx) =>
        cache.nearest(
          tx,
          owner.organizationId,
          simulatorEmbedding(text),
          CANDIDATES,
          SEMANTIC_MIN_SIMILARITY,
        ),
      );
    const first = { term: 'Quorum', definition: 'The majority of replicas that must agree on a write.' };
    const v0 = await version();

    const created = await api('POST', '/terminology', { ...first, isPublic: true });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const v1 = await version();
    expect(v1).toBeGreaterThan(v0);
    let hits = await nearest(termText(first));
    expect(hits[0]).toMatchObject({ id: created.body.id });
    expect(hits[0]!.s).toBeCloseTo(1, 6);
    expect(cache.loads).toBe(1);
    // nothing changed: the same vectors, no reload
    await nearest(termText(first));
    expect(cache.loads).toBe(1);

    // an entry from another process (here: direct SQL) is seen at the next search
    const second = { term: 'Fencing token', definition: 'A number that rejects writes from a stale leader.' };
    const [row] = await asOwner(async (tx) => {
      const rows = await tx
        .insert(terminologyEntries)
        .values({ organizationId: owner.organizationId, userId: owner.userId, isPublic: true, ...second })
        .returning();
      await s.database.db.embeddings.upsert(tx, {
        organizationId: owner.organizationId,
        namespace: 'terminology',
        refId: rows[0]!.id,
        content: termText(second),
        embedding: simulatorEmbedding(termText(second)),
      });
      return rows;
    });
    const v2 = await version();
    expect(v2).toBeGreaterThan(v1);
    hits = await nearest(termText(second));
    expect(hits[0]).toMatchObject({ id: row!.id });
    expect(cache.loads).toBe(2);

    // usage only (what glossary injection writes): same version, no reload
    await asOwner((tx) =>
      tx
        .update(terminologyEntries)
        .set({ frequency: sql`${terminologyEntries.frequency} + 1`, lastUsedAt: sql`now()` })
        .where(eq(terminologyEntries.id, row!.id)),
    );
    expect(await version()).toBe(v2);
    await nearest(termText(second));
    expect(cache.loads).toBe(2);

    // a new definition (re-embedded by the API): bumped, and the cache scores the new text
    const changed = {
      term: first.term,
      definition: 'Fewer than half of the nodes can never elect a leader.',
    };
    const upd = await api('PATCH', `/terminology/${created.body.id}`, { definition: changed.definition });
    expect(upd.status, JSON.stringify(upd.body)).toBe(200);
    const v3 = await version();
    expect(v3).toBeGreaterThan(v2);
    hits = await nearest(termText(changed));
    expect(hits[0]).toMatchObject({ id: created.body.id });
    expect(hits[0]!.s).toBeCloseTo(1, 6);
    expect(cache.loads).toBe(3);

    // a rolled-back change leaves the version as it was
    await asOwner(async (tx) => {
      await tx.delete(terminologyEntries).where(eq(terminologyEntries.id, row!.id));
      throw new Error('roll back');
    }).catch(() => {});
    expect(await version()).toBe(v3);

    // delete: bumped, and the entry is no longer a neighbour
    expect((await api('DELETE', `/terminology/${created.body.id}`)).status).toBe(204);
    expect(await version()).toBeGreaterThan(v3);
    hits = await nearest(termText(changed));
    expect(hits.map((h) => h.id)).not.toContain(created.body.id);
    expect(cache.loads).toBe(4);

    // one statement over many entries is one bump (a statement trigger, not one per row)
    const before = await version();
    const imp = await api('POST', '/terminology/import', {
      format: 'json',
      data: JSON.stringify(
        Array.from({ length: 20 }, (_, i) => ({ term: `bulk ${i}`, definition: `entry ${i}` })),
      ),
      isPublic: true,
    });
    expect(imp.status, JSON.stringify(imp.body)).toBe(200);
    expect(await version()).toBeGreaterThan(before);
    // another organization's counter did not move
    expect(await version(other.organizationId)).toBe(0);
  });

  it('at the database: each organization reads only its own counter, nobody without a tenant, and the application role cannot write it', async () => {
    await api('POST', '/terminology', { term: 'theirs', definition: 'x', isPublic: true }, other.token);
    const db = s.database.db;
    const rowsOf = (organizationId: string) =>
      db.withTenant(organizationId, (tx) =>
        queryRows<{ organization_id: string }>(tx, sql`SELECT organization_id FROM terminology_versions`),
      );
    expect(await rowsOf(owner.organizationId)).toEqual([{ organization_id: owner.organizationId }]);
    expect(await rowsOf(other.organizationId)).toEqual([{ organization_id: other.organizationId }]);
    expect(await queryRows(db.db, sql`SELECT * FROM terminology_versions`)).toEqual([]);
    // the counter the other organization reads through the function is its own
    expect(await version(other.organizationId)).toBeGreaterThan(0);

    const own = owner.organizationId;
    for (const write of [
      sql`UPDATE terminology_versions SET version = 0 WHERE organization_id = ${own}`,
      sql`DELETE FROM terminology_versions WHERE organization_id = ${own}`,
      sql`INSERT INTO terminology_versions (organization_id) VALUES (${own})`,
    ]) {
      expect(await permissionError(() => db.withTenant(own, (tx) => tx.execute(write)))).toMatch(
        /permission denied/,
      );
    }
    // as the owner (no row-level security), both rows exist
    const all = await db.system((tx) =>
      queryRows<{ n: number }>(
        tx,
        sql`SELECT count(*)::int AS n FROM terminology_versions
            WHERE organization_id IN (${owner.organizationId}, ${other.organizationId})`,
      ),
    );
    expect(all[0]!.n).toBe(2);
  });

  it('deleting an organization with entries deletes its counter (the cascade does not trip the trigger)', async () => {
    const gone = await signUp(s);
    await api('POST', '/terminology', { term: 'gone', definition: 'x', isPublic: true }, gone.token);
    expect(await version(gone.organizationId)).toBeGreaterThan(0);
    await s.database.db.system((tx) =>
      tx.execute(sql`DELETE FROM organizations WHERE id = ${gone.organizationId}`),
    );
    const left = await s.database.db.system((tx) =>
      queryRows(tx, sql`SELECT 1 FROM terminology_versions WHERE organization_id = ${gone.organizationId}`),
    );
    expect(left).toEqual([]);
  });
});
