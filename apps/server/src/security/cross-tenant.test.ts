import { randomUUID } from 'node:crypto';
import { queryRows } from '@aiops/db';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ApiResult,
  addMember,
  call,
  type SignedUp,
  signUp,
  startTestServer,
  type TestServer,
} from '../test-support.ts';

/**
 * Organization A tries to reach organization B's resources through the API, with a user token and with an
 * API key, by real ids and by guessed ones: every attempt must answer exactly as for an id that does not
 * exist (404), or show nothing of B. Then the same through direct SQL as the application role.
 */
let s: TestServer;
let a: SignedUp;
let b: SignedUp;
let aKey: string;
const bIds = { key: '', invitation: '', member: '', audit: [] as string[] };
let bKey: string;

beforeAll(async () => {
  s = await startTestServer();
  a = await signUp(s);
  b = await signUp(s);
  const ak = await call(s, 'POST', '/api/v1/api-keys', {
    token: a.token,
    body: {
      name: 'a-all',
      scopes: [
        'organization:read',
        'member:read',
        'member:manage',
        'api_key:read',
        'api_key:manage',
        'audit:read',
      ],
    },
  });
  aKey = ak.body.key;
  await call(s, 'POST', '/api/v1/invitations', { token: a.token, body: { email: 'a-pending@example.test' } });
  const bk = await call(s, 'POST', '/api/v1/api-keys', {
    token: b.token,
    body: { name: 'b', scopes: ['organization:read'] },
  });
  bIds.key = bk.body.apiKey.id;
  bKey = bk.body.key;
  bIds.member = (await addMember(s, b, 'member')).userId;
  bIds.invitation = (
    await call(s, 'POST', '/api/v1/invitations', { token: b.token, body: { email: 'pending@example.test' } })
  ).body.id;
  bIds.audit = (await call(s, 'GET', '/api/v1/audit-logs?limit=3', { token: b.token })).body.data.map(
    (r: { id: string }) => r.id,
  );
});
afterAll(() => s?.close());

describe('cross-tenant attempts through the API', () => {
  it('are all denied (at least 50), and B is unchanged afterwards', async () => {
    const results: { what: string; ok: boolean }[] = [];
    const expect404 = async (what: string, p: Promise<ApiResult<{ error: { code: string } }>>) => {
      const r = await p;
      results.push({ what, ok: r.status === 404 && r.body.error.code === 'not_found' });
    };
    const expectNoneOfB = async (what: string, p: Promise<ApiResult>) => {
      const r = await p;
      const text = JSON.stringify(r.body);
      const leaked = [b.organizationId, b.userId, bIds.key, bIds.invitation, bIds.member, ...bIds.audit].some(
        (id) => text.includes(id),
      );
      results.push({ what, ok: r.status === 200 && !leaked });
    };
    for (const [who, token] of [
      ['user token', a.token],
      ['API key', aKey],
    ] as const) {
      const t = { token };
      await expect404(`${who}: read B's key`, call(s, 'GET', `/api/v1/api-keys/${bIds.key}`, t));
      await expect404(`${who}: revoke B's key`, call(s, 'DELETE', `/api/v1/api-keys/${bIds.key}`, t));
      for (const id of bIds.audit)
        await expect404(`${who}: read B's audit row`, call(s, 'GET', `/api/v1/audit-logs/${id}`, t));
      await expect404(
        `${who}: change B's owner`,
        call(s, 'PATCH', `/api/v1/members/${b.userId}`, { ...t, body: { role: 'viewer' } }),
      );
      await expect404(
        `${who}: change B's member`,
        call(s, 'PATCH', `/api/v1/members/${bIds.member}`, { ...t, body: { permissions: [] } }),
      );
      await expect404(`${who}: remove B's member`, call(s, 'DELETE', `/api/v1/members/${bIds.member}`, t));
      await expect404(`${who}: remove B's owner`, call(s, 'DELETE', `/api/v1/members/${b.userId}`, t));
      await expect404(
        `${who}: revoke B's invitation`,
        call(s, 'DELETE', `/api/v1/invitations/${bIds.invitation}`, t),
      );
      await expectNoneOfB(`${who}: list keys`, call(s, 'GET', '/api/v1/api-keys', t));
      await expectNoneOfB(`${who}: list members`, call(s, 'GET', '/api/v1/members', t));
      await expectNoneOfB(`${who}: list invitations`, call(s, 'GET', '/api/v1/invitations', t));
      await expectNoneOfB(`${who}: list audit`, call(s, 'GET', '/api/v1/audit-logs', t));
      await expectNoneOfB(
        `${who}: audit by B's key id`,
        call(s, 'GET', `/api/v1/audit-logs?entityId=${bIds.key}`, t),
      );
      await expectNoneOfB(
        `${who}: audit by B's user`,
        call(s, 'GET', `/api/v1/audit-logs?userId=${b.userId}`, t),
      );
      await expectNoneOfB(
        `${who}: audit by B's key actor`,
        call(s, 'GET', `/api/v1/audit-logs?apiKeyId=${bIds.key}`, t),
      );
      await expectNoneOfB(`${who}: own organization`, call(s, 'GET', '/api/v1/organization', t));
      await expectNoneOfB(`${who}: me`, call(s, 'GET', '/api/v1/me', t));
      for (let i = 0; i < 3; i++) {
        const guess = randomUUID();
        await expect404(`${who}: guessed key id`, call(s, 'GET', `/api/v1/api-keys/${guess}`, t));
        await expect404(`${who}: guessed audit id`, call(s, 'GET', `/api/v1/audit-logs/${guess}`, t));
        await expect404(
          `${who}: guessed member`,
          call(s, 'PATCH', `/api/v1/members/${guess}`, { ...t, body: { permissions: [] } }),
        );
        await expect404(`${who}: guessed invitation`, call(s, 'DELETE', `/api/v1/invitations/${guess}`, t));
      }
    }
    await expect404(
      'user token: switch to B',
      call(s, 'POST', '/api/v1/auth/switch-org', {
        token: a.token,
        body: { organizationId: b.organizationId },
      }),
    );
    await expect404(
      'login into B',
      call(s, 'POST', '/api/v1/auth/login', {
        body: { email: a.email, password: a.password, organizationId: b.organizationId },
      }),
    );

    const failed = results.filter((r) => !r.ok).map((r) => r.what);
    expect(failed).toEqual([]);
    expect(results.length).toBeGreaterThanOrEqual(50);

    // B is untouched: its key works, its member is there, its invitation pending.
    expect((await call(s, 'GET', '/api/v1/organization', { token: bKey })).status).toBe(200);
    const members = await call(s, 'GET', '/api/v1/members', { token: b.token });
    expect(members.body.data.map((m: { userId: string }) => m.userId)).toContain(bIds.member);
    const inv = await call(s, 'GET', '/api/v1/invitations', { token: b.token });
    expect(inv.body.data[0].revokedAt).toBeNull();
  });
});

/** The database's own message of a failed statement (Drizzle wraps it as the cause). */
async function failure(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return `${(e as Error).message} ${((e as Error).cause as Error | undefined)?.message ?? ''}`;
  }
  return 'no error';
}

describe('cross-tenant attempts through direct SQL as the application role', () => {
  const TABLES: Record<string, string> = {
    organizations: 'id',
    memberships: 'organization_id',
    sessions: 'organization_id',
    api_keys: 'organization_id',
    audit_logs: 'organization_id',
    invitations: 'organization_id',
  };

  it('in A’s tenant, B’s rows cannot be read, changed, deleted or created', async () => {
    const db = s.database.db;
    let attempts = 0;
    for (const [table, col] of Object.entries(TABLES)) {
      await db.withTenant(a.organizationId, async (tx) => {
        const seen = await queryRows<{ n: number }>(
          tx,
          sql`SELECT count(*)::int AS n FROM ${sql.identifier(table)} WHERE ${sql.identifier(col)} = ${b.organizationId}`,
        );
        expect(seen[0]!.n, `${table}: select`).toBe(0);
        const mine = await queryRows<{ n: number }>(
          tx,
          sql`SELECT count(*)::int AS n FROM ${sql.identifier(table)}`,
        );
        expect(mine[0]!.n, `${table}: own rows visible`).toBeGreaterThan(0);
        attempts++;
      });
      if (table !== 'audit_logs') {
        const updated = await db.withTenant(a.organizationId, (tx) =>
          queryRows(
            tx,
            sql`UPDATE ${sql.identifier(table)} SET ${sql.identifier(col)} = ${sql.identifier(col)} WHERE ${sql.identifier(col)} = ${b.organizationId} RETURNING 1`,
          ),
        );
        expect(updated, `${table}: update`).toHaveLength(0);
        const deleted = await db.withTenant(a.organizationId, (tx) =>
          queryRows(
            tx,
            sql`DELETE FROM ${sql.identifier(table)} WHERE ${sql.identifier(col)} = ${b.organizationId} RETURNING 1`,
          ),
        );
        expect(deleted, `${table}: delete`).toHaveLength(0);
        attempts += 2;
      }
    }
    const inserts = [
      sql`INSERT INTO memberships (organization_id, user_id, role) VALUES (${b.organizationId}, ${a.userId}, 'owner')`,
      sql`INSERT INTO api_keys (organization_id, name, key_hash, key_prefix) VALUES (${b.organizationId}, 'x', ${randomUUID()}, 'aio_x')`,
      sql`INSERT INTO audit_logs (organization_id, entity_type, action) VALUES (${b.organizationId}, 'x', 'forged')`,
      sql`INSERT INTO invitations (organization_id, email, token_hash, expires_at) VALUES (${b.organizationId}, 'e@example.test', ${randomUUID()}, now())`,
      sql`INSERT INTO sessions (organization_id, user_id, refresh_token_hash, expires_at) VALUES (${b.organizationId}, ${a.userId}, ${randomUUID()}, now())`,
    ];
    for (const q of inserts) {
      expect(await failure(db.withTenant(a.organizationId, (tx) => tx.execute(q)))).toMatch(
        /row-level security/,
      );
      attempts++;
    }
    // Audit rows are append-only even inside their own tenant.
    const update = db.withTenant(b.organizationId, (tx) =>
      tx.execute(sql`UPDATE audit_logs SET action = 'x'`),
    );
    expect(await failure(update)).toMatch(/permission denied/);
    const del = db.withTenant(b.organizationId, (tx) => tx.execute(sql`DELETE FROM audit_logs`));
    expect(await failure(del)).toMatch(/permission denied/);
    // Without a tenant, nothing is visible.
    const none = await queryRows<{ n: number }>(db.db, sql`SELECT count(*)::int AS n FROM api_keys`);
    expect(none[0]!.n).toBe(0);
    expect(attempts).toBeGreaterThanOrEqual(20);
  });
});
