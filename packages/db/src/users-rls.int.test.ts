import { randomUUID } from 'node:crypto';
import { createTestDatabase, type TestDatabase, testBackend } from '@aiops/testing';
import { type SQL, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from './open.ts';
import { queryRows, type Tx } from './types.ts';

/**
 * Users, their mailed tokens and their linked identities under row-level security (migration 0014), and
 * the engine's SECURITY DEFINER functions bound to `app.org_id`; all as the application role, direct SQL.
 * Org A has users a1 and a2; org B has user b.
 */
let t: TestDatabase;
let db: Database;
const orgA = randomUUID();
const orgB = randomUUID();
const a1 = randomUUID();
const a2 = randomUUID();
const b = randomUUID();
let workflowB = '';
let stepB = '';
let runB = '';

const ids = (rows: { id: string }[]) => rows.map((r) => r.id).sort();
const asUser = <T>(org: string, user: string, fn: (tx: Tx) => Promise<T>) =>
  db.withTenant({ organizationId: org, userId: user }, fn);

async function sqlError(fn: () => Promise<unknown>): Promise<{ code?: string; message: string }> {
  try {
    await fn();
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message: string } }).cause;
    return cause ?? { message: (e as Error).message };
  }
  return { message: 'no error' };
}

async function insertedId(tx: Tx, q: SQL): Promise<string> {
  const [row] = await queryRows<{ id: string }>(tx, q);
  return row!.id;
}

beforeAll(async () => {
  t = await createTestDatabase({ poolSize: 1 });
  db = t.db;
  await db.system(async (tx) => {
    await tx.execute(
      sql`INSERT INTO organizations (id, name, slug) VALUES (${orgA}, 'A', ${`a-${orgA}`}), (${orgB}, 'B', ${`b-${orgB}`})`,
    );
    for (const [id, org] of [
      [a1, orgA],
      [a2, orgA],
      [b, orgB],
    ] as const) {
      await tx.execute(sql`INSERT INTO users (id, email) VALUES (${id}, ${`${id}@example.com`})`);
      await tx.execute(
        sql`INSERT INTO memberships (organization_id, user_id, role) VALUES (${org}, ${id}, 'member')`,
      );
      await tx.execute(sql`INSERT INTO user_tokens (user_id, purpose, token_hash, expires_at)
          VALUES (${id}, 'password_reset', ${randomUUID()}, now() + interval '1 hour')`);
      await tx.execute(sql`INSERT INTO auth_identities (user_id, provider, subject)
          VALUES (${id}, 'github', ${randomUUID()})`);
    }
    workflowB = await insertedId(
      tx,
      sql`INSERT INTO workflows (organization_id, name, definition) VALUES (${orgB}, 'w', '{}') RETURNING id`,
    );
    runB = await insertedId(
      tx,
      sql`INSERT INTO workflow_executions (organization_id, workflow_id, workflow_version, status, remaining_nodes,
            steps_total, correlation_id)
          VALUES (${orgB}, ${workflowB}, 1, 'running', 1, 1, ${randomUUID()}) RETURNING id`,
    );
    stepB = await insertedId(
      tx,
      sql`INSERT INTO run_steps (organization_id, run_id, node_id, status, pending_inputs)
          VALUES (${orgB}, ${runB}, 'n', 'ready', 0) RETURNING id`,
    );
  });
});
afterAll(() => t?.destroy());

describe(`users, user_tokens and auth_identities under row-level security on ${testBackend()}`, () => {
  it('with no tenant and no user, no user, token or identity is visible', async () => {
    for (const table of ['users', 'user_tokens', 'auth_identities']) {
      const rows = await queryRows(
        db.db,
        sql`SELECT ${sql.raw(table === 'users' ? 'id' : '*')} FROM ${sql.identifier(table)}`,
      );
      expect(rows, table).toEqual([]);
    }
  });

  it("a user sees their own row and their organization's members, not another organization's users", async () => {
    const rows = await asUser(orgA, a1, (tx) => queryRows<{ id: string }>(tx, sql`SELECT id FROM users`));
    expect(ids(rows)).toEqual([a1, a2].sort());
    // An API key (organization, no user) sees the members too.
    const byKey = await db.withTenant(orgA, (tx) => queryRows<{ id: string }>(tx, sql`SELECT id FROM users`));
    expect(ids(byKey)).toEqual([a1, a2].sort());
    const other = await asUser(orgA, a1, (tx) => queryRows(tx, sql`SELECT id FROM users WHERE id = ${b}`));
    expect(other).toEqual([]);
  });

  it("no one reads a user's credentials but that user, through aiops_own_credentials()", async () => {
    await db.system((tx) =>
      tx.execute(sql`UPDATE users SET password_hash = 'hash-' || id::text, mfa_secret = 'sealed-' || id::text
          WHERE id IN (${a1}, ${a2})`),
    );
    for (const column of ['password_hash', 'mfa_secret', 'mfa_recovery_codes']) {
      const refused = await sqlError(() =>
        asUser(orgA, a1, (tx) =>
          queryRows(tx, sql`SELECT ${sql.identifier(column)} FROM users WHERE id = ${a2}`),
        ),
      );
      expect(refused.message, column).toMatch(/permission denied/);
    }
    const own = await asUser(orgA, a1, (tx) =>
      queryRows<{ password_hash: string; mfa_secret: string }>(
        tx,
        sql`SELECT password_hash, mfa_secret FROM aiops_own_credentials()`,
      ),
    );
    expect(own).toEqual([{ password_hash: `hash-${a1}`, mfa_secret: `sealed-${a1}` }]);
    // An API key (organization, no user) gets no one's.
    const byKey = await db.withTenant(orgA, (tx) =>
      queryRows(tx, sql`SELECT * FROM aiops_own_credentials()`),
    );
    expect(byKey).toEqual([]);
  });

  it('a user changes only their own row: not a fellow member, not another organization', async () => {
    const touched = (id: string) =>
      asUser(orgA, a1, (tx) =>
        queryRows(tx, sql`UPDATE users SET full_name = 'x' WHERE id = ${id} RETURNING id`),
      );
    expect(await touched(a1)).toHaveLength(1);
    expect(await touched(a2)).toEqual([]);
    expect(await touched(b)).toEqual([]);
    const deleted = await asUser(orgA, a1, (tx) =>
      queryRows(tx, sql`DELETE FROM users WHERE id IN (${a2}, ${b}) RETURNING id`),
    );
    expect(deleted).toEqual([]);
  });

  it('a user row can be inserted only as the acting user', async () => {
    const newId = randomUUID();
    const refused = await sqlError(() =>
      asUser(orgA, a1, (tx) =>
        tx.execute(sql`INSERT INTO users (id, email) VALUES (${newId}, ${`${newId}@x.y`})`),
      ),
    );
    expect(refused.message).toMatch(/row-level security/);
    await asUser(orgA, newId, (tx) =>
      tx.execute(sql`INSERT INTO users (id, email) VALUES (${newId}, ${`${newId}@x.y`})`),
    );
  });

  it.each(['user_tokens', 'auth_identities'])('%s: a user sees and writes only their own', async (table) => {
    const rows = await asUser(orgA, a1, (tx) =>
      queryRows<{ user_id: string }>(tx, sql`SELECT user_id FROM ${sql.identifier(table)}`),
    );
    expect(rows.map((r) => r.user_id)).toEqual([a1]);
    // Fellow members' tokens and identities are not theirs to see.
    const byKey = await db.withTenant(orgA, (tx) =>
      queryRows(tx, sql`SELECT * FROM ${sql.identifier(table)}`),
    );
    expect(byKey).toEqual([]);
    const insert: SQL =
      table === 'user_tokens'
        ? sql`INSERT INTO user_tokens (user_id, purpose, token_hash, expires_at)
              VALUES (${a2}, 'password_reset', ${randomUUID()}, now() + interval '1 hour')`
        : sql`INSERT INTO auth_identities (user_id, provider, subject) VALUES (${a2}, 'google', ${randomUUID()})`;
    const refused = await sqlError(() => asUser(orgA, a1, (tx) => tx.execute(insert)));
    expect(refused.message).toMatch(/row-level security/);
    const updated = await asUser(orgA, a1, (tx) =>
      queryRows(
        tx,
        sql`UPDATE ${sql.identifier(table)} SET user_id = user_id WHERE user_id <> ${a1} RETURNING id`,
      ),
    );
    expect(updated).toEqual([]);
  });
});

describe(`the engine's privileged functions and app.org_id on ${testBackend()}`, () => {
  const FUNCTIONS = [
    'aiops_add_org_cost',
    'aiops_create_runs',
    'aiops_claim_steps',
    'aiops_lease_steps',
    'aiops_complete_steps',
    'aiops_admit_queued',
    'aiops_resume_parents',
  ];

  it.each(FUNCTIONS)('%s refuses to act for another organization than app.org_id', async (fn) => {
    const refused = await sqlError(() => db.withTenant(orgA, (tx) => tx.execute(callOf(fn))));
    expect(refused.code).toBe('42501');
    expect(refused.message).toContain(fn);
  });

  it('with no organization set (the worker) they work across organizations', async () => {
    await db.db.execute(callOf('aiops_add_org_cost'));
    const [org] = await db.system((tx) =>
      queryRows<{ cost: string }>(
        tx,
        sql`SELECT monthly_cost_used::text AS cost FROM organizations WHERE id = ${orgB}`,
      ),
    );
    expect(Number(org!.cost)).toBe(1);
    const leased = await queryRows<{ r: unknown[] }>(
      db.db,
      sql`SELECT aiops_lease_steps('w', ARRAY[${stepB}]::uuid[], 60000) AS r`,
    );
    expect(leased[0]!.r).toHaveLength(1);
  });

  it('for its own organization a function acts as before', async () => {
    await db.withTenant(orgA, (tx) =>
      tx.execute(
        sql`SELECT aiops_add_org_cost(${JSON.stringify([{ organization_id: orgA, cost: '2' }])}::jsonb)`,
      ),
    );
    const [org] = await db.withTenant(orgA, (tx) =>
      queryRows<{ cost: string }>(tx, sql`SELECT monthly_cost_used::text AS cost FROM organizations`),
    );
    expect(Number(org!.cost)).toBe(2);
  });

  function callOf(fn: string): SQL {
    const build: Record<string, () => SQL> = {
      aiops_add_org_cost: () =>
        sql`SELECT aiops_add_org_cost(${JSON.stringify([{ organization_id: orgB, cost: '1' }])}::jsonb)`,
      aiops_create_runs: () =>
        sql`SELECT aiops_create_runs(${JSON.stringify([{ id: randomUUID(), organization_id: orgB, workflow_id: workflowB }])}::jsonb, '[]'::jsonb, now())`,
      aiops_claim_steps: () => sql`SELECT aiops_claim_steps('w', 10, 60000)`,
      aiops_lease_steps: () => sql`SELECT aiops_lease_steps('w', ARRAY[${stepB}]::uuid[], 60000)`,
      aiops_complete_steps: () =>
        sql`SELECT aiops_complete_steps('w', ${JSON.stringify([{ id: stepB, run_id: runB, organization_id: orgA }])}::jsonb, 0, 60000)`,
      aiops_admit_queued: () => sql`SELECT aiops_admit_queued(ARRAY[${workflowB}]::uuid[])`,
      aiops_resume_parents: () => sql`SELECT aiops_resume_parents(ARRAY[${runB}]::uuid[])`,
    };
    return build[fn]!();
  }
});
