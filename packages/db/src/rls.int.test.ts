import { randomUUID } from 'node:crypto';
import { createTestDatabase, type TestDatabase, testBackend } from '@aiops/testing';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from './open.ts';
import { queryRows, type Tx } from './types.ts';

/**
 * Row-level security as the application role, with direct SQL: org A never sees or changes org B's rows,
 * nothing is visible without a tenant, and the tenant setting never outlives its transaction.
 */
let t: TestDatabase;
let db: Database;
const orgA = randomUUID();
const orgB = randomUUID();
const user = randomUUID();

/** One insert per tenant table, parameterized by org; returns the new row id. */
const inserts: Record<string, (tx: Tx, org: string) => Promise<string>> = {
  memberships: async (tx, org) =>
    one(
      tx,
      sql`INSERT INTO memberships (organization_id, user_id, role) VALUES (${org}, ${user}, 'member') RETURNING id`,
    ),
  sessions: async (tx, org) =>
    one(
      tx,
      sql`INSERT INTO sessions (organization_id, user_id, refresh_token_hash, expires_at)
          VALUES (${org}, ${user}, ${randomUUID()}, now() + interval '1 day') RETURNING id`,
    ),
  api_keys: async (tx, org) =>
    one(
      tx,
      sql`INSERT INTO api_keys (organization_id, name, key_hash, key_prefix)
          VALUES (${org}, 'k', ${randomUUID()}, 'aio_x') RETURNING id`,
    ),
  audit_logs: async (tx, org) =>
    one(
      tx,
      sql`INSERT INTO audit_logs (organization_id, entity_type, action) VALUES (${org}, 'x', 'created') RETURNING id`,
    ),
  memory_messages: async (tx, org) =>
    one(
      tx,
      sql`INSERT INTO memory_messages (organization_id, thread_key, role, content)
          VALUES (${org}, 't', 'user', 'hi') RETURNING id`,
    ),
  model_prices: async (tx, org) =>
    one(
      tx,
      sql`INSERT INTO model_prices (organization_id, model, effective_from, input, output)
          VALUES (${org}, ${`x:${randomUUID()}`}, '2024-01-01', '1', '1') RETURNING id`,
    ),
  response_cache: async (tx, org) =>
    one(
      tx,
      sql`INSERT INTO response_cache (organization_id, key, answer, expires_at)
          VALUES (${org}, ${randomUUID()}, '{}'::jsonb, now() + interval '1 hour') RETURNING id`,
    ),
  model_aliases: async (tx, org) =>
    one(
      tx,
      sql`INSERT INTO model_aliases (organization_id, alias, targets)
          VALUES (${org}, 'fast', '[{"model":"openai:gpt-4o-mini"}]'::jsonb) RETURNING id`,
    ),
  sync_targets: async (tx, org) =>
    one(
      tx,
      sql`INSERT INTO sync_targets (organization_id, name, url, secret_encrypted, secret_key_id, secret_hint, interval_seconds)
          VALUES (${org}, 's', 'https://example.com/in', 'x', 'k', 'h', 60) RETURNING id`,
    ),
  // Inserted after sync_targets (object order): the tenant's own target.
  sync_deliveries: async (tx, org) =>
    one(
      tx,
      sql`INSERT INTO sync_deliveries (organization_id, target_id, batch_id, event_count, attempt, ok, duration_ms)
          VALUES (${org}, ${ids.sync_targets![org === orgA ? 'a' : 'b']}, 'b', 0, 1, true, 1) RETURNING id`,
    ),
  embeddings: async (tx, org) => {
    const vec = db.embeddings.mode === 'pgvector' ? sql`'[1,0]'::vector` : sql`'{1,0}'::real[]`;
    return one(
      tx,
      sql`INSERT INTO embeddings (organization_id, namespace, ref_id, content, dimensions, embedding)
          VALUES (${org}, 'n', ${randomUUID()}, 'text', 2, ${vec}) RETURNING id`,
    );
  },
};
const tenantTables = ['organizations', ...Object.keys(inserts)];

async function one(tx: Tx, q: ReturnType<typeof sql>): Promise<string> {
  const [row] = await queryRows<{ id: string }>(tx, q);
  return row!.id;
}

const ids: Record<string, { a: string; b: string }> = {};

beforeAll(async () => {
  t = await createTestDatabase({ poolSize: 1 });
  db = t.db;
  await db.system(async (tx) => {
    await tx.execute(
      sql`INSERT INTO organizations (id, name, slug) VALUES (${orgA}, 'A', ${`a-${orgA}`}), (${orgB}, 'B', ${`b-${orgB}`})`,
    );
    await tx.execute(sql`INSERT INTO users (id, email) VALUES (${user}, ${`${user}@example.com`})`);
  });
  ids.organizations = { a: orgA, b: orgB };
  for (const [table, insert] of Object.entries(inserts)) {
    ids[table] = {
      a: await db.withTenant(orgA, (tx) => insert(tx, orgA)),
      b: await db.withTenant(orgB, (tx) => insert(tx, orgB)),
    };
  }
});
afterAll(() => t?.destroy());

async function rlsError(fn: () => Promise<unknown>): Promise<string> {
  try {
    await fn();
  } catch (e) {
    return String((e as { cause?: Error }).cause?.message ?? (e as Error).message);
  }
  return 'no error';
}

describe(`row-level security on ${testBackend()}`, () => {
  it('works as a role that is neither superuser nor exempt from row-level security', async () => {
    const [me] = await queryRows<{ user: string; superuser: boolean; bypass: boolean }>(
      db.db,
      sql`SELECT current_user AS user, rolsuper AS superuser, rolbypassrls AS bypass FROM pg_roles WHERE rolname = current_user`,
    );
    expect(me).toEqual({ user: 'aiops_app', superuser: false, bypass: false });
  });

  it.each(tenantTables)('%s: a tenant sees only its own rows', async (table) => {
    const rows = await db.withTenant(orgA, (tx) =>
      queryRows<{ id: string }>(tx, sql`SELECT id FROM ${sql.identifier(table)}`),
    );
    expect(rows.map((r) => r.id)).toEqual([ids[table]!.a]);
  });

  it.each(tenantTables)('%s: selecting the other tenant by id finds nothing', async (table) => {
    const rows = await db.withTenant(orgA, (tx) =>
      queryRows(tx, sql`SELECT * FROM ${sql.identifier(table)} WHERE id = ${ids[table]!.b}`),
    );
    expect(rows).toEqual([]);
  });

  it.each(Object.keys(inserts))('%s: inserting a row for the other tenant is refused', async (table) => {
    const message = await rlsError(() => db.withTenant(orgA, (tx) => inserts[table]!(tx, orgB)));
    expect(message).toMatch(/row-level security/);
  });

  it.each(tenantTables.filter((t) => t !== 'audit_logs'))(
    '%s: updating or deleting the other tenant changes nothing',
    async (table) => {
      const touched = await db.withTenant(orgA, async (tx) => {
        const u = await queryRows(
          tx,
          sql`UPDATE ${sql.identifier(table)} SET id = id WHERE id = ${ids[table]!.b} RETURNING id`,
        );
        const d = await queryRows(
          tx,
          sql`DELETE FROM ${sql.identifier(table)} WHERE id = ${ids[table]!.b} RETURNING id`,
        );
        return u.length + d.length;
      });
      expect(touched).toBe(0);
      const still = await db.withTenant(orgB, (tx) =>
        queryRows(tx, sql`SELECT id FROM ${sql.identifier(table)} WHERE id = ${ids[table]!.b}`),
      );
      expect(still).toHaveLength(1);
    },
  );

  it.each(tenantTables)('%s: moving an own row to the other tenant is refused', async (table) => {
    const column = table === 'organizations' ? 'id' : 'organization_id';
    const message = await rlsError(() =>
      db.withTenant(orgA, (tx) =>
        tx.execute(
          sql`UPDATE ${sql.identifier(table)} SET ${sql.identifier(column)} = ${orgB} WHERE id = ${ids[table]!.a}`,
        ),
      ),
    );
    expect(message).toMatch(/row-level security|permission denied|violates foreign key/);
  });

  it.each(tenantTables)('%s: with no tenant set nothing is visible', async (table) => {
    expect(await queryRows(db.db, sql`SELECT * FROM ${sql.identifier(table)}`)).toEqual([]);
  });

  it.each(Object.keys(inserts))('%s: with no tenant set nothing can be inserted', async (table) => {
    const message = await rlsError(() => db.db.transaction((tx) => inserts[table]!(tx, orgA)));
    expect(message).toMatch(/row-level security/);
  });

  it('audit rows are append-only for the application role, even in their own tenant', async () => {
    const update = await rlsError(() =>
      db.withTenant(orgA, (tx) =>
        tx.execute(sql`UPDATE audit_logs SET action = 'x' WHERE id = ${ids.audit_logs!.a}`),
      ),
    );
    const del = await rlsError(() =>
      db.withTenant(orgA, (tx) => tx.execute(sql`DELETE FROM audit_logs WHERE id = ${ids.audit_logs!.a}`)),
    );
    expect(update).toMatch(/permission denied/);
    expect(del).toMatch(/permission denied/);
  });

  it('the tenant setting does not leak into the next transaction on the same connection', async () => {
    await db.withTenant(orgA, async () => {});
    const [after] = await queryRows<{ org: string | null; role: string }>(
      db.db,
      sql`SELECT nullif(current_setting('app.org_id', true), '') AS org, current_user AS role`,
    );
    expect(after).toEqual({ org: null, role: 'aiops_app' });
    await db
      .withTenant(orgA, async () => {
        throw new Error('rolled back');
      })
      .catch(() => {});
    const rows = await queryRows(db.db, sql`SELECT id FROM memberships`);
    expect(rows).toEqual([]);
  });

  it('system context leaves the application role afterwards', async () => {
    const inside = await db.system((tx) =>
      queryRows<{ n: number }>(tx, sql`SELECT count(*)::int AS n FROM organizations`),
    );
    expect(inside[0]!.n).toBe(2);
    const [after] = await queryRows<{ role: string }>(db.db, sql`SELECT current_user AS role`);
    expect(after!.role).toBe('aiops_app');
  });

  it('rejects a tenant id that is not a UUID before touching the database', () => {
    expect(() => db.withTenant("x' OR 1=1", async () => {})).toThrow(/must be a UUID/);
  });
});
