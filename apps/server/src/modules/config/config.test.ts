import { randomBytes, randomUUID } from 'node:crypto';
import { generateKey, parseKeyring, SecretBox } from '@aiops/core';
import { type Database, openDb, organizationConfig, triggerFirings } from '@aiops/db';
import { testBackend } from '@aiops/testing';
import { eq, sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../app.ts';
import {
  addMember,
  call,
  type SignedUp,
  signUp,
  startTestServer,
  type TestServer,
} from '../../test-support.ts';
import { isPlatformAdmin, setPlatformAdmin } from './admins.ts';
import { evaluateFlag, FLAGS, rolloutBucket } from './registry.ts';

const jwtSecret = randomBytes(32);
let a: TestServer;
/** A second server on the same database (PostgreSQL: its own pool and LISTEN connection). */
let b: { app: FastifyInstance; db: Database; request(path: string, init?: RequestInit): Promise<Response> };
/** A worker-only process (role worker: no API routes) on the same database. */
let worker: FastifyInstance;
let operator: SignedUp;
let owner: SignedUp;

beforeAll(async () => {
  a = await startTestServer({ settings: { jwtSecret } });
  const dbB = a.database.url
    ? await openDb({ kind: 'postgres', url: a.database.url, migrate: false })
    : a.database.db;
  const appB = await buildApp({
    db: dbB,
    secrets: new SecretBox(parseKeyring(`test:${generateKey()}`)),
    logLevel: 'info',
    logStream: { write: () => {} },
    settings: { jwtSecret },
  });
  await appB.listen({ host: '127.0.0.1', port: 0 });
  const address = appB.server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  b = { app: appB, db: dbB, request: (path, init) => fetch(`${url}${path}`, init) };
  worker = await buildApp({
    db: dbB,
    secrets: new SecretBox(parseKeyring(`test:${generateKey()}`)),
    logLevel: 'info',
    logStream: { write: () => {} },
    api: false,
  });
  operator = await signUp(a);
  owner = await signUp(a);
});

afterAll(async () => {
  await worker?.close();
  await b?.app.close();
  if (b && b.db !== a?.database.db) await b.db.close();
  await a?.close();
});

/** Polls until `check` holds; returns how long it took (ms). */
async function within(ms: number, check: () => Promise<boolean> | boolean): Promise<number> {
  const start = performance.now();
  while (!(await check())) {
    if (performance.now() - start > ms) throw new Error(`not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
  return performance.now() - start;
}

describe(`feature flags and runtime configuration on ${testBackend()}`, () => {
  it('only platform admins (granted from the CLI) reach /admin/*; owners and API keys get 403', async () => {
    const denied = await call(a, 'GET', '/api/v1/admin/config', { token: operator.token });
    expect(denied.status).toBe(403);
    expect(denied.body.error.code).toBe('platform_admin_required');
    // AIOPS_PLATFORM_ADMINS lists emails, honoured only once the address is verified.
    expect(await isPlatformAdmin(a.database.db, operator.userId, [operator.email])).toBe(false);
    expect(await setPlatformAdmin(a.database.db, operator.email, true)).toBe(true);
    expect(await setPlatformAdmin(a.database.db, operator.email, true)).toBe(false);
    const ok = await call(a, 'GET', '/api/v1/admin/config', { token: operator.token });
    expect(ok.status).toBe(200);
    expect(ok.body.flags.map((f: { key: string }) => f.key)).toEqual(FLAGS.map((f) => f.key));
    expect(ok.body.settings.find((s: { key: string }) => s.key === 'log_level').value).toBeNull();
    // The owner of an organization is not a platform admin.
    const own = await call(a, 'PUT', '/api/v1/admin/config', { token: owner.token, body: { settings: {} } });
    expect(own.status).toBe(403);
    // An API key of a platform admin is not a platform admin: /admin/* is for signed-in people.
    const key = await call(a, 'POST', '/api/v1/api-keys', {
      token: operator.token,
      body: { name: 'ops', scopes: ['organization:read'] },
    });
    const byKey = await call(a, 'GET', '/api/v1/admin/config', { token: key.body.key });
    expect(byKey.status).toBe(403);
    const features = await call(a, 'GET', '/api/v1/organization/features', { token: operator.token });
    expect(features.body.platformAdmin).toBe(true);
    // The application role cannot read the global tables or the admins at all.
    const err = await a.database.db
      .withTenant(owner.organizationId, (tx) => tx.execute(sql`SELECT * FROM platform_admins`))
      .then(
        () => 'read',
        (e: Error) => String((e.cause as Error | undefined)?.message ?? e.message),
      );
    expect(err).toMatch(/permission denied/);
  });

  it('values are validated per key: unknown keys and bad values are 400 with the field paths', async () => {
    const r = await call(a, 'PUT', '/api/v1/admin/config', {
      token: operator.token,
      body: {
        settings: { log_level: 'loud', 'rate_limits.anonymous_per_minute': 0, nope: 1 },
        organizations: [{ organizationId: owner.organizationId, key: 'log_level', value: 'debug' }],
      },
    });
    expect(r.status).toBe(400);
    const paths = r.body.error.details.issues.map((i: { path: string }) => i.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        'settings.log_level',
        'settings.rate_limits.anonymous_per_minute',
        'settings.nope',
        'organizations.0.key',
      ]),
    );
    const missing = await call(a, 'PUT', '/api/v1/admin/config', {
      token: operator.token,
      body: { organizations: [{ organizationId: randomUUID(), key: 'feature/workflows', value: false }] },
    });
    expect(missing.status).toBe(404);
  });

  it('a change on one server applies on the other within a second (flag, log level, rate limit), audited', async () => {
    const other = await signUp(a);
    expect((await call(b, 'GET', '/api/v1/workflows', { token: owner.token })).status).toBe(200);
    // A workflow with a webhook trigger, made while workflows are on.
    const wf = await call(a, 'POST', '/api/v1/workflows', {
      token: owner.token,
      body: {
        status: 'active',
        definition: {
          name: 'hooked',
          nodes: [
            { id: 'echo', type: 'agent', agent: { model: 'simulator:echo', prompt: 'hi' } },
            { id: 'result', type: 'output', value: { said: '{{nodes.echo.output}}' } },
          ],
          connections: [{ from: 'echo', to: 'result' }],
        },
      },
    });
    expect(wf.status).toBe(201);
    const trigger = await call(a, 'POST', `/api/v1/workflows/${wf.body.id}/triggers`, {
      token: owner.token,
      body: { type: 'webhook', name: 'hook', webhook: { auth: 'none' } },
    });
    expect(trigger.status).toBe(201);
    expect(b.app.log.level).toBe('info');
    const put = await call(a, 'PUT', '/api/v1/admin/config', {
      token: operator.token,
      body: {
        organizations: [{ organizationId: owner.organizationId, key: 'feature/workflows', value: false }],
        settings: { log_level: 'debug', 'rate_limits.anonymous_per_minute': 4321 },
      },
    });
    expect(put.status).toBe(200);
    const sent = performance.now();
    // The server that made the change applies it before answering.
    expect((await call(a, 'GET', '/api/v1/workflows', { token: owner.token })).status).toBe(403);
    let refused: { status: number; body: { error: { code: string; message: string } } } | undefined;
    const flagMs = await within(1000, async () => {
      refused = await call(b, 'GET', '/api/v1/workflows', { token: owner.token });
      return refused.status === 403;
    });
    expect(refused?.body.error.code).toBe('feature_disabled');
    expect(refused?.body.error.message).toMatch(/platform operator/);
    await within(1000, () => b.app.log.level === 'debug' && worker.log.level === 'debug');
    expect(worker.runtimeConfig.flag('feature/workflows', owner.organizationId).enabled).toBe(false);
    const anon = await b.request('/api/v1/auth/session');
    expect(anon.headers.get('x-ratelimit-limit')).toBe('4321');
    console.log(
      `propagation to the second server: ${Math.round(performance.now() - sent)} ms (flag seen after ${Math.round(flagMs)} ms)`,
    );
    // Its webhook fires no run: the firing fails and says why.
    await b.request(trigger.body.webhook.path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    const firings = await a.database.db.withTenant(owner.organizationId, (tx) =>
      tx.select().from(triggerFirings).where(eq(triggerFirings.triggerId, trigger.body.id)),
    );
    expect(firings.map((f) => [f.status, f.runId, f.reason?.split(':')[0]])).toEqual([
      ['failed', null, 'feature_disabled'],
    ]);
    // Other organizations keep the feature.
    expect((await call(b, 'GET', '/api/v1/workflows', { token: other.token })).status).toBe(200);
    // Audited: the override in the organization's audit log, global settings in the platform's.
    const logs = await call(a, 'GET', '/api/v1/audit-logs?entityType=organization_config', {
      token: owner.token,
    });
    expect(JSON.stringify(logs.body)).toContain('config.override_set');
    const platform = await a.database.db.system((tx) =>
      tx.execute(sql`SELECT action, key FROM platform_audit_logs WHERE key = 'log_level'`),
    );
    expect((platform as unknown as { rows: unknown[] }).rows.length).toBeGreaterThan(0);
    // Back to the defaults.
    const reset = await call(a, 'PUT', '/api/v1/admin/config', {
      token: operator.token,
      body: {
        organizations: [{ organizationId: owner.organizationId, key: 'feature/workflows', value: null }],
        settings: { log_level: null, 'rate_limits.anonymous_per_minute': null },
      },
    });
    expect(reset.status).toBe(200);
    await within(1000, () => b.app.log.level === 'info');
    expect((await call(b, 'GET', '/api/v1/workflows', { token: owner.token })).status).toBe(200);
  });

  it('owners turn owner-toggleable features off and on; members cannot; operator-only flags are refused', async () => {
    const before = await call(a, 'GET', '/api/v1/organization/features', { token: owner.token });
    expect(before.body.canManage).toBe(true);
    expect(before.body.flags.every((f: { enabled: boolean }) => f.enabled)).toBe(true);
    const off = await call(a, 'PUT', '/api/v1/organization/features', {
      token: owner.token,
      body: { flags: { 'feature/marketplace': false } },
    });
    expect(off.status).toBe(200);
    const m = off.body.flags.find((f: { key: string }) => f.key === 'feature/marketplace');
    expect(m).toMatchObject({ enabled: false, offered: true, source: 'owner' });
    const r = await call(a, 'GET', '/api/v1/marketplace/listings', { token: owner.token });
    expect(r.status).toBe(403);
    expect(r.body.error.code).toBe('feature_disabled');
    const operatorOnly = await call(a, 'PUT', '/api/v1/organization/features', {
      token: owner.token,
      body: { flags: { 'feature/workflows': false } },
    });
    expect(operatorOnly.status).toBe(400);
    expect(operatorOnly.body.error.details.issues[0].path).toBe('flags.feature/workflows');
    const member = await addMember(a, owner, 'admin');
    const byAdmin = await call(a, 'PUT', '/api/v1/organization/features', {
      token: member.token,
      body: { flags: { 'feature/marketplace': true } },
    });
    expect(byAdmin.status).toBe(403);
    expect(byAdmin.body.error.code).toBe('owner_required');
    const on = await call(a, 'PUT', '/api/v1/organization/features', {
      token: owner.token,
      body: { flags: { 'feature/marketplace': true } },
    });
    expect(on.status).toBe(200);
    expect((await call(a, 'GET', '/api/v1/marketplace/listings', { token: owner.token })).status).toBe(200);
    // Row-level security: another organization sees none of this organization's overrides.
    await call(a, 'PUT', '/api/v1/organization/features', {
      token: owner.token,
      body: { flags: { 'feature/conversations': false } },
    });
    const mine = await a.database.db.withTenant(owner.organizationId, (tx) =>
      tx.select().from(organizationConfig),
    );
    const theirs = await a.database.db.withTenant(operator.organizationId, (tx) =>
      tx.select().from(organizationConfig),
    );
    expect(mine.length).toBe(1);
    // The application role may write owners' opt-outs only: operator overrides are not theirs to forge.
    const forged = await a.database.db
      .withTenant(owner.organizationId, (tx) =>
        tx.insert(organizationConfig).values({
          organizationId: owner.organizationId,
          layer: 'operator',
          key: 'feature/workflows',
          value: true,
        }),
      )
      .then(
        () => 'written',
        (e: Error) => String((e.cause as Error | undefined)?.message ?? e.message),
      );
    expect(forged).toMatch(/row-level security/);
    expect(theirs.some((row) => row.organizationId === owner.organizationId)).toBe(false);
  });

  it('percentage rollout is a stable hash of the organization id; the allow-list wins; global off is off', async () => {
    const def = FLAGS[0] as (typeof FLAGS)[number];
    const ids = Array.from({ length: 2000 }, () => randomUUID());
    const on = ids.filter(
      (id) =>
        evaluateFlag(
          def,
          id,
          { enabled: true, rolloutPercent: 25, allowOrganizations: [] },
          undefined,
          undefined,
        ).enabled,
    );
    expect(on.length / ids.length).toBeGreaterThan(0.2);
    expect(on.length / ids.length).toBeLessThan(0.3);
    for (const id of ids.slice(0, 50)) expect(rolloutBucket(def.key, id)).toBe(rolloutBucket(def.key, id));
    const id = ids[0] as string;
    expect(
      evaluateFlag(
        def,
        id,
        { enabled: false, rolloutPercent: 100, allowOrganizations: [id] },
        undefined,
        undefined,
      ),
    ).toMatchObject({ enabled: true, source: 'allow-list' });
    expect(
      evaluateFlag(
        def,
        id,
        { enabled: false, rolloutPercent: 100, allowOrganizations: [] },
        undefined,
        undefined,
      ).enabled,
    ).toBe(false);
    expect(
      evaluateFlag(def, id, { enabled: false, rolloutPercent: 100, allowOrganizations: [] }, true, undefined),
    ).toMatchObject({ enabled: true, source: 'operator' });
    // Through the API: a global rollout of 0% with the owner's organization allow-listed.
    const put = await call(a, 'PUT', '/api/v1/admin/config', {
      token: operator.token,
      body: {
        flags: {
          'feature/gateway': { enabled: true, rolloutPercent: 0, allowOrganizations: [owner.organizationId] },
        },
      },
    });
    expect(put.status).toBe(200);
    const f = async (t: string) =>
      (await call(b, 'GET', '/api/v1/organization/features', { token: t })).body.flags.find(
        (x: { key: string }) => x.key === 'feature/gateway',
      );
    await within(1000, async () => (await f(operator.token)).enabled === false);
    expect(await f(owner.token)).toMatchObject({ enabled: true, source: 'allow-list' });
    expect(await f(operator.token)).toMatchObject({ enabled: false, source: 'rollout' });
  });
});
