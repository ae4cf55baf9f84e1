import { generateKey, parseKeyring, SecretBox } from '@aiops/core';
import { workflowTriggers } from '@aiops/db';
import { testBackend } from '@aiops/testing';
import { eq, sql } from 'drizzle-orm';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rotateSecrets } from '../../key-rotation.ts';
import { call, type SignedUp, signUp, startTestServer, type TestServer } from '../../test-support.ts';
import { settleFirings } from './firing.ts';
import { triggerAad } from './service.ts';

const OLD_KEY = generateKey();
const secrets = new SecretBox(parseKeyring(`k1:${OLD_KEY}`));
let s: TestServer;
let owner: SignedUp;
let other: SignedUp;

/** A workflow whose run echoes `input.text` after `latencyMs`. */
async function workflow(token: string, opts: { latencyMs?: number; status?: string } = {}) {
  const r = await call(s, 'POST', '/api/v1/workflows', {
    token,
    body: {
      status: opts.status ?? 'active',
      definition: {
        name: `wf-${Math.random().toString(36).slice(2)}`,
        nodes: [
          {
            id: 'echo',
            type: 'agent',
            agent: {
              model: 'simulator:echo',
              prompt: 'said {{input.text}}',
              simulate: { latencyMs: opts.latencyMs ?? 0 },
            },
          },
          { id: 'result', type: 'output', value: { said: '{{nodes.echo.output}}' } },
        ],
        connections: [{ from: 'echo', to: 'result' }],
      },
    },
  });
  expect(r.status).toBe(201);
  return r.body.id as string;
}

async function hook(path: string, body: string, headers: Record<string, string> = {}) {
  const res = await s.request(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

function signed(
  secret: string,
  body: string,
  id = `msg_${Math.random().toString(36).slice(2)}`,
  at = new Date(),
) {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': new Webhook(secret).sign(id, at, body),
  };
}

beforeAll(async () => {
  s = await startTestServer({ worker: true, secrets });
  owner = await signUp(s);
  other = await signUp(s);
});
afterAll(() => s?.close());

describe(`triggers on ${testBackend()}`, () => {
  it('CRUD: schedule with next five times, event with a CEL filter, bad input is a 400 that says what to fix', async () => {
    const wf = await workflow(owner.token);
    const created = await call(s, 'POST', `/api/v1/workflows/${wf}/triggers`, {
      token: owner.token,
      body: {
        type: 'schedule',
        name: 'nightly',
        schedule: { cron: '30 2 * * *', timezone: 'Europe/Berlin' },
      },
    });
    expect(created.status).toBe(201);
    expect(created.body.schedule.nextFireTimes).toHaveLength(5);
    expect(created.body.maxConcurrentExecutions).toBe(1);
    expect(created.body.schedule.nextFireAt).toBe(created.body.schedule.nextFireTimes[0]);

    const bad = await call(s, 'POST', `/api/v1/workflows/${wf}/triggers`, {
      token: owner.token,
      body: { type: 'schedule', name: 'x', schedule: { cron: '61 * * * *', timezone: 'Mars/Base' } },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain('Mars/Base');
    const badCron = await call(s, 'POST', `/api/v1/workflows/${wf}/triggers`, {
      token: owner.token,
      body: { type: 'schedule', name: 'x', schedule: { cron: 'every day', timezone: 'UTC' } },
    });
    expect(badCron.status).toBe(400);
    expect(badCron.body.error.message).toContain('not a cron expression');
    const badFilter = await call(s, 'POST', `/api/v1/workflows/${wf}/triggers`, {
      token: owner.token,
      body: { type: 'event', name: 'x', event: { type: 'order.created', filter: 'data.total >' } },
    });
    expect(badFilter.status).toBe(400);
    expect(badFilter.body.error.message).toContain('CEL');
    const badMapping = await call(s, 'POST', `/api/v1/workflows/${wf}/triggers`, {
      token: owner.token,
      body: { type: 'webhook', name: 'x', inputMapping: { text: '{{nodes.a.output}}' } },
    });
    expect(badMapping.status).toBe(400);

    const patched = await call(s, 'PATCH', `/api/v1/triggers/${created.body.id}`, {
      token: owner.token,
      body: { enabled: false, schedule: { cron: '0 9 * * 1-5', timezone: 'America/New_York' } },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ enabled: false, schedule: { cron: '0 9 * * 1-5' } });
    const wrongKind = await call(s, 'PATCH', `/api/v1/triggers/${created.body.id}`, {
      token: owner.token,
      body: { webhook: { mode: 'sync' } },
    });
    expect(wrongKind.status).toBe(400);

    const list = await call(s, 'GET', `/api/v1/workflows/${wf}/triggers`, { token: owner.token });
    expect(list.body.data.map((t: { id: string }) => t.id)).toEqual([created.body.id]);
    // Another organization sees nothing.
    expect((await call(s, 'GET', `/api/v1/triggers/${created.body.id}`, { token: other.token })).status).toBe(
      404,
    );
    expect((await call(s, 'GET', `/api/v1/workflows/${wf}/triggers`, { token: other.token })).status).toBe(
      404,
    );

    const preview = await call(
      s,
      'GET',
      '/api/v1/triggers/cron-preview?cron=0%209%20*%20*%20*&timezone=Asia/Tokyo',
      {
        token: owner.token,
      },
    );
    expect(preview.body.times).toHaveLength(5);
    expect(preview.body.times[0]).toMatch(/T00:00:00.000Z$/);

    const audit = await call(s, 'GET', '/api/v1/audit-logs?entityType=trigger', { token: owner.token });
    expect(audit.body.data.map((a: { action: string }) => a.action)).toEqual(
      expect.arrayContaining(['created', 'updated']),
    );
    expect(
      (await call(s, 'DELETE', `/api/v1/triggers/${created.body.id}`, { token: owner.token })).status,
    ).toBe(200);
    expect((await call(s, 'GET', `/api/v1/triggers/${created.body.id}`, { token: owner.token })).status).toBe(
      404,
    );
  });

  it('Standard Webhooks: valid starts a run (async 202); tampered, expired, wrong secret and replayed are refused', async () => {
    const wf = await workflow(owner.token);
    const t = await call(s, 'POST', `/api/v1/workflows/${wf}/triggers`, {
      token: owner.token,
      body: { type: 'webhook', name: 'github', maxConcurrentExecutions: null },
    });
    expect(t.status).toBe(201);
    const secret = t.body.webhook.secret as string;
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    expect(t.body.webhook.secretHint).toMatch(/^whsec_…[A-Za-z0-9+/=]{4}$/);
    expect(t.body.webhook.secretHint).toBe(`${secret.slice(0, 6)}…${secret.slice(-4)}`);
    expect(t.body.webhook.rateLimitPerMinute).toBe(600);
    // Shown once: reading it again has no secret.
    const again = await call(s, 'GET', `/api/v1/triggers/${t.body.id}`, { token: owner.token });
    expect(again.body.webhook.secret).toBeUndefined();
    const path = t.body.webhook.path as string;
    const body = JSON.stringify({ text: 'hello' });

    const headers = signed(secret, body);
    const ok = await hook(path, body, headers);
    expect(ok.status).toBe(202);
    expect(ok.body.runId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    const run = await call(s, 'GET', `/api/v1/runs/${ok.body.runId}`, { token: owner.token });
    expect(run.body).toMatchObject({ triggeredBy: 'webhook', externalTriggerId: headers['webhook-id'] });
    expect(run.body.metadata.trigger).toMatchObject({ id: t.body.id, deliveryId: headers['webhook-id'] });

    const replay = await hook(path, body, headers);
    expect(replay.status).toBe(409);
    expect(replay.body.error.code).toBe('replayed');

    const tampered = await hook(path, JSON.stringify({ text: 'HELLO' }), signed(secret, body));
    expect(tampered.status).toBe(401);
    expect(tampered.body.error.code).toBe('invalid_signature');

    const old = new Date(Date.now() - 6 * 60_000);
    const expired = await hook(path, body, signed(secret, body, 'msg_old', old));
    expect(expired.status).toBe(401);
    expect(expired.body.error.message).toContain('5 minutes');

    const wrong = await hook(path, body, signed(`whsec_${Buffer.alloc(24, 7).toString('base64')}`, body));
    expect(wrong.status).toBe(401);
    expect((await hook(path, body)).status).toBe(401);
    expect((await hook('/api/v1/hooks/nope', body)).status).toBe(404);

    // Rotation: the old secret stops working, the new one works.
    const rotated = await call(s, 'POST', `/api/v1/triggers/${t.body.id}/rotate-secret`, {
      token: owner.token,
    });
    const fresh = rotated.body.webhook.secret as string;
    expect(fresh).not.toBe(secret);
    expect((await hook(path, body, signed(secret, body))).status).toBe(401);
    expect((await hook(path, body, signed(fresh, body))).status).toBe(202);
    const firings = await call(s, 'GET', `/api/v1/triggers/${t.body.id}/firings`, { token: owner.token });
    expect(firings.body.data).toHaveLength(2);
    expect(s.logs.join('\n')).not.toContain(fresh);
  });

  it('sync mode answers the output; bearer and none; form and text bodies; input mapping; limits and 415', async () => {
    const wf = await workflow(owner.token);
    const t = await call(s, 'POST', `/api/v1/workflows/${wf}/triggers`, {
      token: owner.token,
      body: {
        type: 'webhook',
        name: 'form',
        webhook: { auth: 'bearer', mode: 'sync', syncTimeoutMs: 10_000 },
        inputMapping: { text: '{{input.body.name}}' },
        maxConcurrentExecutions: null,
      },
    });
    const token = t.body.webhook.secret as string;
    const path = t.body.webhook.path as string;
    const res = await s.request(path, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Bearer ${token}` },
      body: 'name=Ada&x=1',
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'completed', output: { said: 'said Ada' } });
    expect((await hook(path, '{}', { authorization: 'Bearer wrong' })).status).toBe(401);

    const none = await call(s, 'POST', `/api/v1/workflows/${wf}/triggers`, {
      token: owner.token,
      body: {
        type: 'webhook',
        name: 'open',
        webhook: { auth: 'none', mode: 'sync' },
        inputMapping: { text: '{{input.body}}' },
        maxConcurrentExecutions: null,
      },
    });
    expect(none.body.webhook.secret).toBeUndefined();
    const text = await s.request(none.body.webhook.path, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'plain words',
    });
    expect(await text.json()).toMatchObject({ output: { said: 'said plain words' } });
    const badJson = await hook(none.body.webhook.path, '{"a":');
    expect(badJson.status).toBe(400);
    expect(badJson.body.error.code).toBe('invalid_json');
    const xml = await s.request(none.body.webhook.path, {
      method: 'POST',
      headers: { 'content-type': 'application/xml' },
      body: '<a/>',
    });
    expect(xml.status).toBe(415);
    const big = await hook(none.body.webhook.path, JSON.stringify({ text: 'x'.repeat(1_100_000) }));
    expect(big.status).toBe(413);
  });

  it('only active workflows fire; concurrency limit skips or queues', async () => {
    const draft = await workflow(owner.token, { status: 'draft' });
    const d = await call(s, 'POST', `/api/v1/workflows/${draft}/triggers`, {
      token: owner.token,
      body: { type: 'webhook', name: 'd', webhook: { auth: 'none' } },
    });
    const inactive = await hook(d.body.webhook.path, '{}');
    expect(inactive.status).toBe(409);
    expect(inactive.body.error.code).toBe('workflow_inactive');

    const slow = await workflow(owner.token, { latencyMs: 1500 });
    const skip = await call(s, 'POST', `/api/v1/workflows/${slow}/triggers`, {
      token: owner.token,
      body: { type: 'webhook', name: 'skip', overflow: 'skip', webhook: { auth: 'none' } },
    });
    expect((await hook(skip.body.webhook.path, '{"text":"a"}')).status).toBe(202);
    const busy = await hook(skip.body.webhook.path, '{"text":"b"}');
    expect(busy.status).toBe(429);
    expect(busy.body.error.code).toBe('trigger_busy');

    const queue = await call(s, 'POST', `/api/v1/workflows/${slow}/triggers`, {
      token: owner.token,
      body: { type: 'webhook', name: 'queue', overflow: 'queue', webhook: { auth: 'none' } },
    });
    const first = await hook(queue.body.webhook.path, '{"text":"1"}');
    const second = await hook(queue.body.webhook.path, '{"text":"2"}');
    expect(first.body.status).toBe('started');
    expect(second).toMatchObject({ status: 202, body: { status: 'queued', runId: null } });
    const ctx = { db: s.database.db, runs: s.app.engine.runs, log: s.app.log };
    // While the first run is active the queued firing stays queued.
    await settleFirings(ctx);
    const mid = await call(s, 'GET', `/api/v1/triggers/${queue.body.id}/firings`, { token: owner.token });
    expect(mid.body.data.map((f: { status: string }) => f.status).sort()).toEqual(['queued', 'started']);
    await call(s, 'POST', `/api/v1/workflows/${slow}/runs`, {
      token: owner.token,
      body: { input: {}, wait: 0 },
    });
    for (let i = 0; i < 100; i++) {
      await settleFirings(ctx);
      const f = await call(s, 'GET', `/api/v1/triggers/${queue.body.id}/firings`, { token: owner.token });
      if (f.body.data.every((x: { status: string }) => x.status !== 'queued')) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const after = await call(s, 'GET', `/api/v1/triggers/${queue.body.id}/firings`, { token: owner.token });
    const statuses = after.body.data.map((f: { status: string }) => f.status);
    expect(statuses).not.toContain('queued');
    expect(after.body.data.every((f: { runId: string | null }) => f.runId)).toBe(true);
  });

  it('row-level security: trigger tables show another organization nothing', async () => {
    const wf = await workflow(owner.token);
    await call(s, 'POST', `/api/v1/workflows/${wf}/triggers`, {
      token: owner.token,
      body: { type: 'webhook', name: 'rls', webhook: { auth: 'none' } },
    });
    const db = s.database.db;
    for (const table of ['workflow_triggers', 'trigger_firings', 'events', 'event_outbox', 'event_sinks']) {
      const q = sql.raw(
        `SELECT count(*)::int AS n FROM ${table} WHERE organization_id = '${owner.organizationId}'`,
      );
      const mine = await db.withTenant(owner.organizationId, (tx) => tx.execute(q));
      const theirs = await db.withTenant(other.organizationId, (tx) => tx.execute(q));
      const none = await db.db.execute(q);
      const n = (r: unknown) => (r as { rows: { n: number }[] }).rows[0]!.n;
      if (table !== 'events' && table !== 'event_sinks') expect(n(mine)).toBeGreaterThan(0);
      expect(n(theirs)).toBe(0);
      expect(n(none)).toBe(0);
    }
  });

  it('webhook secrets are encrypted at rest and re-encrypted by key rotation', async () => {
    const wf = await workflow(owner.token);
    const t = await call(s, 'POST', `/api/v1/workflows/${wf}/triggers`, {
      token: owner.token,
      body: { type: 'webhook', name: 'rotated' },
    });
    const db = s.database.db;
    const read = async () =>
      (
        await db.system((tx) => tx.select().from(workflowTriggers).where(eq(workflowTriggers.id, t.body.id)))
      )[0]!;
    expect((await read()).secretEncrypted).not.toContain(t.body.webhook.secret);
    const NEW_KEY = generateKey();
    const both = new SecretBox(parseKeyring(`k1:${OLD_KEY},k2:${NEW_KEY}`));
    const counts = await rotateSecrets(db, both);
    expect(counts.find((c) => c.kind === 'webhook trigger secrets')).toMatchObject({ failed: 0 });
    const row = await read();
    expect(row.secretKeyId).toBe('k2');
    const onlyNew = new SecretBox(parseKeyring(`k2:${NEW_KEY}`));
    expect(onlyNew.decrypt(row.secretEncrypted!, triggerAad(t.body.id))).toBe(t.body.webhook.secret);
  });

  it('each hook has its own rate limit: 429 with Retry-After over it, changeable, null for none', async () => {
    const wf = await workflow(owner.token);
    const t = await call(s, 'POST', `/api/v1/workflows/${wf}/triggers`, {
      token: owner.token,
      body: {
        type: 'webhook',
        name: 'limited',
        maxConcurrentExecutions: null,
        webhook: { auth: 'none', rateLimitPerMinute: 3 },
      },
    });
    expect(t.body.webhook.rateLimitPerMinute).toBe(3);
    const other = await call(s, 'POST', `/api/v1/workflows/${wf}/triggers`, {
      token: owner.token,
      body: { type: 'webhook', name: 'neighbour', maxConcurrentExecutions: null, webhook: { auth: 'none' } },
    });
    const post = (path: string) =>
      s.request(path, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    const answers = [];
    for (let i = 0; i < 5; i++) answers.push(await post(t.body.webhook.path));
    expect(answers.map((r) => r.status)).toEqual([202, 202, 202, 429, 429]);
    const over = answers[3]!;
    expect(over.headers.get('x-ratelimit-limit')).toBe('3');
    const retryAfter = Number(over.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(((await over.json()) as { error: { code: string } }).error.code).toBe('rate_limited');
    // Another hook of the same organization is not affected.
    expect((await post(other.body.webhook.path)).status).toBe(202);
    // No limit (null): the same burst passes; a bad value is a 400 naming the field.
    const bad = await call(s, 'PATCH', `/api/v1/triggers/${t.body.id}`, {
      token: owner.token,
      body: { webhook: { rateLimitPerMinute: 0 } },
    });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body.error)).toContain('rateLimitPerMinute');
    const off = await call(s, 'PATCH', `/api/v1/triggers/${t.body.id}`, {
      token: owner.token,
      body: { webhook: { rateLimitPerMinute: null } },
    });
    expect(off.body.webhook).toMatchObject({ rateLimitPerMinute: null, mode: 'async' });
    for (let i = 0; i < 3; i++) expect((await post(t.body.webhook.path)).status).toBe(202);
  });

  it('webhook URLs are not held to the per-address limit of anonymous requests', async () => {
    const generous = { userPerMinute: 1_000_000, orgPerMinute: 1_000_000 };
    const tight = await startTestServer({
      settings: {
        rateLimits: {
          tiers: { starter: generous, professional: generous, business: generous, enterprise: generous },
          anonymousPerMinute: 3,
        },
      },
    });
    try {
      const me = await signUp(tight);
      const wf = await call(tight, 'POST', '/api/v1/workflows', {
        token: me.token,
        body: {
          status: 'active',
          definition: { name: 'burst', nodes: [{ id: 'o', type: 'output', value: 1 }], connections: [] },
        },
      });
      const t = await call(tight, 'POST', `/api/v1/workflows/${wf.body.id}/triggers`, {
        token: me.token,
        body: { type: 'webhook', name: 'burst', maxConcurrentExecutions: null, webhook: { auth: 'none' } },
      });
      const codes: number[] = [];
      for (let i = 0; i < 8; i++) {
        const r = await tight.request(t.body.webhook.path, {
          method: 'POST',
          body: '{}',
          headers: { 'content-type': 'application/json' },
        });
        codes.push(r.status);
      }
      expect(codes).toEqual(Array(8).fill(202));
      // Other public routes still are.
      const logins: number[] = [];
      for (let i = 0; i < 5; i++) {
        const r = await call(tight, 'POST', '/api/v1/auth/login', {
          body: { email: 'x@example.test', password: 'nope-nope-nope' },
        });
        logins.push(r.status);
      }
      expect(logins).toContain(429);
    } finally {
      await tight.close();
    }
  });
});
