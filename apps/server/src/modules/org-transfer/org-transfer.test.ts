import { gunzipSync, gzipSync } from 'node:zlib';
import { queryRows } from '@aiops/db';
import { testBackend } from '@aiops/testing';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type SignedUp, signUp, startTestServer, type TestServer } from '../../test-support.ts';
import { triggerAad } from '../triggers/service.ts';
import { TABLES } from './tables.ts';

let s: TestServer;
let owner: SignedUp;

const api = (method: string, path: string, body?: unknown, token = owner.token) =>
  call(s, method, `/api/v1${path}`, { token, ...(body === undefined ? {} : { body }) });

async function exportBytes(body: Record<string, unknown>, token = owner.token) {
  const res = await s.request('/api/v1/organization/export', {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, bytes: Buffer.from(await res.arrayBuffer()), headers: res.headers };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Columns whose values an import changes by design (ids, tokens unique to an instance, secrets, cursors). */
const CHANGED = new Set([
  'id',
  'organization_id',
  'hook_id',
  'next_fire_at',
  'schedule_next_fire_at',
  'secret_encrypted',
  'credentials_encrypted',
  'webhook_secret_encrypted',
  'secret_key_id',
  'credentials_key_id',
  'webhook_secret_key_id',
  'seq',
]);
const canonical = (value: unknown): unknown => {
  if (typeof value === 'string') return UUID.test(value) ? '<id>' : value;
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([k]) => !CHANGED.has(k))
        .map(([k, v]) => [k, canonical(v)]),
    );
  }
  return value;
};
async function contentOf(orgId: string, on: TestServer = s) {
  const out: Record<string, string[]> = {};
  for (const t of TABLES) {
    const rows = await on.database.db.system((tx) =>
      queryRows<{ r: unknown }>(
        tx,
        sql`SELECT to_jsonb(t) AS r FROM ${sql.identifier(t.name)} t WHERE organization_id = ${orgId}`,
      ),
    );
    out[t.name] = rows.map((x) => JSON.stringify(canonical(x.r))).sort();
  }
  return out;
}

let sourceSecret: string;
let protectedArchive: string;

beforeAll(async () => {
  s = await startTestServer({ worker: true });
  owner = await signUp(s);
  const integration = await api('POST', '/integrations', {
    name: 'OpenAI',
    provider: 'openai',
    credentials: { apiKey: 'sk-test-0123456789abcdef' },
  });
  expect(integration.status, JSON.stringify(integration.body)).toBe(201);
  const agent = await api('POST', '/agents', {
    name: 'Explainer',
    model: 'simulator:echo',
    systemPrompt: 'Explain.',
    promptTemplate: '{{input.text}}',
  });
  expect(agent.status, JSON.stringify(agent.body)).toBe(201);
  const wf = await api('POST', '/workflows', {
    name: 'explain',
    status: 'active',
    definition: { name: 'explain', nodes: [{ id: 'x', type: 'agent', agentId: agent.body.id }] },
  });
  expect(wf.status, JSON.stringify(wf.body)).toBe(201);
  const trigger = await api('POST', `/workflows/${wf.body.id}/triggers`, { type: 'webhook', name: 'hook' });
  expect(trigger.status, JSON.stringify(trigger.body)).toBe(201);
  sourceSecret = trigger.body.webhook.secret;
  const nightly = await api('POST', `/workflows/${wf.body.id}/triggers`, {
    type: 'schedule',
    name: 'nightly',
    schedule: { cron: '30 2 * * *', timezone: 'Europe/Berlin' },
  });
  expect(nightly.status, JSON.stringify(nightly.body)).toBe(201);
  const ev = await api('POST', '/evaluators', {
    name: 'refund',
    kind: 'rule',
    config: { rule: 'contains', value: 'refund' },
  });
  expect(ev.status, JSON.stringify(ev.body)).toBe(201);
  const ds = await api('POST', '/datasets', { name: 'questions' });
  expect(ds.status, JSON.stringify(ds.body)).toBe(201);
  await api('POST', `/datasets/${ds.body.id}/items`, {
    items: [{ input: { text: 'a' } }, { input: { text: 'b' } }],
  });
  const term = await api('POST', '/terminology', {
    term: 'SLA',
    definition: 'Uptime promised.',
    isPublic: true,
  });
  expect(term.status, JSON.stringify(term.body)).toBe(201);
  const run = await api('POST', `/workflows/${wf.body.id}/runs`, { input: { text: 'hello' }, wait: 30 });
  expect(run.body.status, JSON.stringify(run.body)).toBe('completed');
}, 240_000);
afterAll(() => s?.close());

describe(`organization export and import on ${testBackend()}`, () => {
  it('round-trips an organization with its runs and secrets under a password', async () => {
    const exp = await exportBytes({ includeRuns: true, password: 'correct horse battery' });
    expect(exp.status, exp.bytes.toString()).toBe(200);
    expect(exp.headers.get('content-disposition')).toContain('.aiops.json.gz');
    const archive = JSON.parse(gunzipSync(exp.bytes).toString('utf8'));
    expect(archive).toMatchObject({ format: 'aiops-organization', version: 1 });
    expect(archive.encryption).toMatchObject({ kdf: 'scrypt', cipher: 'aes-256-gcm' });
    const hook = (a: { tables: Record<string, Record<string, unknown>[]> }) =>
      a.tables.workflow_triggers!.find((t) => t.trigger_type === 'webhook')!;
    expect(hook(archive).secret_encrypted).toMatch(/^v1\./);
    expect(JSON.stringify(archive)).not.toContain(sourceSecret);
    expect(JSON.stringify(archive)).not.toContain('sk-test-0123456789abcdef');
    expect(archive.tables.workflow_executions).toHaveLength(1);
    expect(archive.tables.dataset_items).toHaveLength(2);
    const b64 = exp.bytes.toString('base64');
    protectedArchive = b64;

    // Wrong or missing password, damaged or foreign archives: 4xx that say what to fix.
    const wrong = await api('POST', '/organization/import', {
      archive: b64,
      password: 'nope nope',
      dryRun: true,
    });
    expect(wrong.status).toBe(422);
    expect(wrong.body.error.code).toBe('wrong_password');
    const none = await api('POST', '/organization/import', { archive: b64, dryRun: true });
    expect(none.body.error.code).toBe('password_required');
    const junk = await api('POST', '/organization/import', {
      archive: Buffer.from('junk').toString('base64'),
    });
    expect(junk.status).toBe(400);
    const v2 = gzipSync(JSON.stringify({ ...archive, version: 2 })).toString('base64');
    const newer = await api('POST', '/organization/import', { archive: v2 });
    expect(newer.status).toBe(422);
    expect(newer.body.error.code).toBe('unsupported_archive_version');

    const dry = await api('POST', '/organization/import', {
      archive: b64,
      password: 'correct horse battery',
      dryRun: true,
    });
    expect(dry.status, JSON.stringify(dry.body)).toBe(200);
    for (const [table, rows] of Object.entries(archive.tables)) {
      expect(dry.body.create[table] ?? 0, table).toBe((rows as unknown[]).length);
    }
    expect(dry.body.refused).toEqual([]);
    expect(dry.body.secrets).toEqual({ imported: 2, omitted: 0 });

    const done = await api('POST', '/organization/import', {
      archive: b64,
      password: 'correct horse battery',
      name: 'Moved',
    });
    expect(done.status, JSON.stringify(done.body)).toBe(201);
    const newOrg = done.body.organization.id as string;
    const before = await contentOf(owner.organizationId);
    expect(Object.values(before).filter((rows) => rows.length > 0).length).toBeGreaterThanOrEqual(12);
    expect(await contentOf(newOrg)).toEqual(before);
    const items = await s.database.db.system((tx) =>
      queryRows<{ input: unknown }>(
        tx,
        sql`SELECT input FROM dataset_items WHERE organization_id = ${newOrg} ORDER BY seq`,
      ),
    );
    expect(items.map((i) => i.input)).toEqual([{ text: 'a' }, { text: 'b' }]); // in their original order

    // References point at the new rows; the secret opens under the new row's id; the importer owns it.
    const [wf] = await s.database.db.system((tx) =>
      queryRows<{
        definition: { nodes: { agentId: string }[] };
        trigger_id: string;
        agent_id: string;
        role: string;
      }>(
        tx,
        sql`SELECT w.definition, t.id AS trigger_id, a.id AS agent_id, m.role
            FROM workflows w JOIN workflow_triggers t ON t.workflow_id = w.id
            JOIN agents a ON a.organization_id = w.organization_id
            JOIN memberships m ON m.organization_id = w.organization_id AND m.user_id = ${owner.userId}
            WHERE w.organization_id = ${newOrg} AND t.trigger_type = 'webhook'`,
      ),
    );
    expect(wf!.definition.nodes[0]!.agentId).toBe(wf!.agent_id);
    expect(wf!.role).toBe('owner');
    const [t] = await s.database.db.system((tx) =>
      queryRows<{ secret_encrypted: string }>(
        tx,
        sql`SELECT secret_encrypted FROM workflow_triggers WHERE id = ${wf!.trigger_id}`,
      ),
    );
    const [due] = await s.database.db.system((tx) =>
      queryRows<{ n: number }>(
        tx,
        sql`SELECT count(*)::int AS n FROM workflow_triggers
            WHERE organization_id = ${newOrg} AND trigger_type = 'schedule' AND next_fire_at > now()`,
      ),
    );
    expect(due!.n).toBe(1); // the imported schedule fires at its next due time
    expect(s.app.jobDeps.secrets.decrypt(t!.secret_encrypted, triggerAad(wf!.trigger_id))).toBe(sourceSecret);
  });

  it('without a password leaves secrets out; a bad range is refused', async () => {
    const exp = await exportBytes({});
    expect(exp.status).toBe(200);
    const archive = JSON.parse(gunzipSync(exp.bytes).toString('utf8'));
    expect(archive.encryption).toBeNull();
    const webhook = archive.tables.workflow_triggers.find(
      (t: { trigger_type: string }) => t.trigger_type === 'webhook',
    );
    expect(webhook.secret_encrypted).toBeNull();
    expect(archive.tables.workflow_executions).toBeUndefined();
    const done = await api('POST', '/organization/import', { archive: exp.bytes.toString('base64') });
    expect(done.status, JSON.stringify(done.body)).toBe(201);
    expect(done.body.secrets).toEqual({ imported: 0, omitted: 0 });
    expect(done.body.create.workflows).toBe(1);

    // Only owners and admins (organization:export): a key without the permission is refused.
    const key = await api('POST', '/api-keys', { name: 'reader', scopes: ['organization:read'] });
    expect(key.status, JSON.stringify(key.body)).toBe(201);
    expect((await exportBytes({}, key.body.key)).status).toBe(403);
    const audits = await api('GET', '/audit-logs?entityType=organization');
    expect(audits.body.data.map((a: { action: string }) => a.action)).toContain('exported');

    // A suspended organization can still take its data away.
    expect((await api('PATCH', '/organization', { status: 'suspended' })).status).toBe(200);
    expect((await exportBytes({})).status).toBe(200);
    expect((await api('PATCH', '/organization', { status: 'active' })).status).toBe(200);

    const tooBig = await exportBytes({
      from: '2026-02-01T00:00:00Z',
      to: '2026-01-01T00:00:00Z',
      includeRuns: true,
    });
    expect(tooBig.status).toBe(400);
  });
  it('imports into another instance (its own database and key ring) with the same content', async () => {
    const other = await startTestServer();
    try {
      const user = await signUp(other);
      const done = await call(other, 'POST', '/api/v1/organization/import', {
        token: user.token,
        body: { archive: protectedArchive, password: 'correct horse battery' },
      });
      expect(done.status, JSON.stringify(done.body)).toBe(201);
      const newOrg = done.body.organization.id as string;
      expect(await contentOf(newOrg, other)).toEqual(await contentOf(owner.organizationId));
      const [t] = await other.database.db.system((tx) =>
        queryRows<{ id: string; secret_encrypted: string }>(
          tx,
          sql`SELECT id, secret_encrypted FROM workflow_triggers
              WHERE organization_id = ${newOrg} AND trigger_type = 'webhook'`,
        ),
      );
      expect(other.app.jobDeps.secrets.decrypt(t!.secret_encrypted, triggerAad(t!.id))).toBe(sourceSecret);
    } finally {
      await other.close();
    }
  }, 120_000);
});
