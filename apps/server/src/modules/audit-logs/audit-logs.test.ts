import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type SignedUp, signUp, startTestServer, type TestServer } from '../../test-support.ts';

let s: TestServer;
let u: SignedUp;
beforeAll(async () => {
  s = await startTestServer();
  u = await signUp(s);
});
afterAll(() => s?.close());

interface Row {
  id: string;
  entityType: string;
  entityId: string | null;
  action: string;
  userId: string | null;
  apiKeyId: string | null;
  changes: { before?: Record<string, unknown> | null; after?: Record<string, unknown> | null } | null;
  requestId: string | null;
  userAgent: string | null;
  createdAt: string;
}

describe('audit log', () => {
  it('one row per change, in its transaction, with actor, before/after, client and request id', async () => {
    const rename = await call(s, 'PATCH', '/api/v1/organization', {
      token: u.token,
      body: { name: 'Renamed Org', billingEmail: 'Billing@Example.TEST' },
      headers: { 'x-request-id': 'rename-req-1', 'user-agent': 'audit-test/1.0' },
    });
    expect(rename.status).toBe(200);
    const list = await call<{ data: Row[] }>(s, 'GET', '/api/v1/audit-logs?entityType=organization', {
      token: u.token,
    });
    const row = list.body.data.find((r) => r.requestId === 'rename-req-1')!;
    expect(row).toMatchObject({
      entityType: 'organization',
      entityId: u.organizationId,
      action: 'updated',
      userId: u.userId,
      apiKeyId: null,
      userAgent: 'audit-test/1.0',
    });
    expect(row.changes?.before).toMatchObject({
      name: expect.stringMatching(/^Test Org/),
      billingEmail: null,
    });
    expect(row.changes?.after).toEqual({ name: 'Renamed Org', billingEmail: 'b***@example.test' });

    // A refused change writes nothing: the audit row shares the change's transaction.
    const before = (await call<{ data: Row[] }>(s, 'GET', '/api/v1/audit-logs?limit=500', { token: u.token }))
      .body.data.length;
    const refused = await call(s, 'PATCH', `/api/v1/members/${u.userId}`, {
      token: u.token,
      body: { role: 'viewer' },
    });
    expect(refused.status).toBe(409);
    const after = (await call<{ data: Row[] }>(s, 'GET', '/api/v1/audit-logs?limit=500', { token: u.token }))
      .body.data.length;
    expect(after).toBe(before);
  });

  it('a sign-in row has no before/after (changes: null) and says how in metadata', async () => {
    const login = await call(s, 'POST', '/api/v1/auth/login', {
      body: { email: u.email, password: u.password },
      headers: { 'x-request-id': 'sign-in-req-1' },
    });
    expect(login.status).toBe(200);
    const list = await call<{ data: (Row & { metadata: Record<string, unknown> })[] }>(
      s,
      'GET',
      '/api/v1/audit-logs?entityType=session&limit=500',
      { token: u.token },
    );
    const row = list.body.data.find((r) => r.requestId === 'sign-in-req-1')!;
    expect(row).toMatchObject({ action: 'signed_in', changes: null });
    expect(row.metadata).toMatchObject({ method: 'password' }); // masked by field name like changes
    // A change with one side has only that side.
    const made = await call(s, 'POST', '/api/v1/api-keys', {
      token: u.token,
      body: { name: 'one-sided', scopes: ['audit:read'] },
      headers: { 'x-request-id': 'one-sided-1' },
    });
    expect(made.status).toBe(201);
    const all = await call<{ data: Row[] }>(s, 'GET', '/api/v1/audit-logs?limit=500', { token: u.token });
    const created = all.body.data.find((r) => r.requestId === 'one-sided-1')!;
    expect(Object.keys(created.changes ?? {})).toEqual(['after']);
  });

  it('an API key is the actor of what it does', async () => {
    const key = await call(s, 'POST', '/api/v1/api-keys', {
      token: u.token,
      body: { name: 'admin-key', scopes: ['api_key:manage', 'api_key:read', 'audit:read'] },
    });
    const made = await call(s, 'POST', '/api/v1/api-keys', {
      token: key.body.key,
      body: { name: 'child', scopes: ['api_key:read'] },
    });
    expect(made.status).toBe(201);
    const rows = await call<{ data: Row[] }>(s, 'GET', `/api/v1/audit-logs?apiKeyId=${key.body.apiKey.id}`, {
      token: u.token,
    });
    expect(rows.body.data).toHaveLength(1);
    expect(rows.body.data[0]).toMatchObject({
      entityId: made.body.apiKey.id,
      action: 'created',
      userId: null,
    });
  });

  it('pages with a cursor, newest first, and filters by action and time', async () => {
    for (let i = 0; i < 5; i++) {
      await call(s, 'PATCH', '/api/v1/organization', { token: u.token, body: { name: `Name ${i}` } });
    }
    const seen: Row[] = [];
    let cursor: string | null = null;
    do {
      const q: string = `/api/v1/audit-logs?limit=2&entityType=organization${cursor ? `&cursor=${cursor}` : ''}`;
      const page: { body: { data: Row[]; nextCursor: string | null } } = await call(s, 'GET', q, {
        token: u.token,
      });
      expect(page.body.data.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.data);
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen.length).toBe(6);
    expect(new Set(seen.map((r) => r.id)).size).toBe(6);
    const times = seen.map((r) => r.createdAt);
    expect([...times].sort().reverse()).toEqual(times);

    const signups = await call<{ data: Row[] }>(s, 'GET', '/api/v1/audit-logs?action=signed_up', {
      token: u.token,
    });
    expect(signups.body.data.map((r) => r.entityId)).toEqual([u.userId]);
    const future = await call<{ data: Row[] }>(
      s,
      'GET',
      `/api/v1/audit-logs?from=${new Date(Date.now() + 60_000).toISOString()}`,
      {
        token: u.token,
      },
    );
    expect(future.body.data).toEqual([]);
    const past = await call<{ data: Row[] }>(
      s,
      'GET',
      `/api/v1/audit-logs?to=${new Date(Date.now() + 60_000).toISOString()}&limit=500`,
      {
        token: u.token,
      },
    );
    expect(past.body.data.length).toBeGreaterThan(6);
    const one = await call<Row>(s, 'GET', `/api/v1/audit-logs/${seen[0]!.id}`, { token: u.token });
    expect(one.body.id).toBe(seen[0]!.id);
  });
});
