import { spawn } from 'node:child_process';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateKey, parseKeyring, SecretBox } from '@aiops/core';
import { queryRows } from '@aiops/db';
import { testBackend } from '@aiops/testing';
import { sql } from 'drizzle-orm';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type SignedUp, signUp, startTestServer, type TestServer } from '../../test-support.ts';
import { NatsPublisher } from '../events/nats.ts';
import { OutboxLoop } from '../events/outbox.ts';
import { backoff, DEFAULT_SYNC_OPTIONS, nextScheduled, syncPass } from './deliver.ts';

let s: TestServer;
const secrets = new SecretBox(parseKeyring(`test:${generateKey()}`));
let owner: SignedUp;
let receiver: Server;
let receiverUrl: string;
const API_KEY = 'omni-bridge-key-5f0c2a9e7d41';
/** Status codes the receiver answers with next (then 200). */
const failNext: number[] = [];
interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  status: number;
}
const received: Received[] = [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Waits for a condition. Generous: delivery waits until every transaction older than the event's has ended
 * on the whole PostgreSQL server (`pg_snapshot_xmin`), and CI runs other test files' transactions on it.
 */
async function until<T>(fn: () => Promise<T | undefined | false>, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error('timed out');
    await sleep(25);
  }
}

function loop() {
  return new OutboxLoop(
    {
      db: s.database.db,
      secrets,
      nats: new NatsPublisher('nats://127.0.0.1:4222'),
      log: s.app.log,
      sync: syncPass({ backoffMs: 20, maxBackoffMs: 80 }),
    },
    20,
  );
}

/** Outbox rows written for the owner's organization (as the database triggers would). */
async function addEvents(n: number, type = 'order.synced') {
  await s.database.db.system((tx) =>
    tx.execute(sql`INSERT INTO event_outbox (organization_id, type, payload)
      SELECT ${owner.organizationId}::uuid, ${type}, jsonb_build_object('n', g) FROM generate_series(1, ${n}) g`),
  );
}

async function outboxIds(types: string[]): Promise<{ id: string; seq: number }[]> {
  const rows = await s.database.db.withTenant(owner.organizationId, (tx) =>
    queryRows<{ id: string; seq: string }>(tx, sql`SELECT id, seq FROM event_outbox ORDER BY seq`),
  );
  const all = await s.database.db.withTenant(owner.organizationId, (tx) =>
    queryRows<{ id: string; type: string }>(tx, sql`SELECT id, type FROM event_outbox`),
  );
  const wanted = new Set(all.filter((r) => types.some((t) => r.type.startsWith(t))).map((r) => r.id));
  return rows.filter((r) => wanted.has(r.id)).map((r) => ({ id: r.id, seq: Number(r.seq) }));
}

/** Event ids in the batches the receiver accepted (2xx), verified with the target's signing secret. */
function acceptedEventIds(secret: string): string[] {
  return received
    .filter((r) => r.status === 200)
    .flatMap((r) => {
      const msg = new Webhook(secret).verify(r.body, r.headers as Record<string, string>) as {
        type: string;
        events: { id: string }[];
      };
      return msg.type === 'sync.batch' ? msg.events.map((e) => e.id) : [];
    });
}

beforeAll(async () => {
  s = await startTestServer({ secrets });
  owner = await signUp(s);
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      const status = req.headers.authorization === `Bearer ${API_KEY}` ? (failNext.shift() ?? 200) : 401;
      received.push({ headers: req.headers, body, status });
      res.statusCode = status;
      res.end('ok');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/omni-bridge`;
});
afterAll(async () => {
  await s?.close();
  receiver?.close();
});

describe(`outbound sync on ${testBackend()}`, () => {
  it('backs off exponentially with equal jitter, capped; schedules by interval or cron', () => {
    const o = (r: number) => ({ ...DEFAULT_SYNC_OPTIONS, random: () => r });
    expect([1, 2, 3].map((n) => backoff(o(0), n))).toEqual([2_500, 5_000, 10_000]);
    expect([1, 2, 3].map((n) => backoff(o(1), n))).toEqual([5_000, 10_000, 20_000]);
    expect(backoff(o(1), 40)).toBe(3_600_000);
    const from = new Date('2026-03-29T00:30:00Z');
    expect(nextScheduled({ intervalSeconds: 90, cron: null, timezone: 'UTC' }, from).toISOString()).toBe(
      '2026-03-29T00:31:30.000Z',
    );
    expect(
      nextScheduled(
        { intervalSeconds: null, cron: '0 3 * * *', timezone: 'Europe/Berlin' },
        from,
      ).toISOString(),
    ).toBe('2026-03-29T01:00:00.000Z');
  });

  let target: { id: string; secret: string };

  it('validates input: the outbound policy refuses a loopback URL (400 saying so), bad schedules are 400s', async () => {
    const body = { name: 'omni', url: receiverUrl, apiKey: API_KEY, eventTypes: ['order.*'] };
    const refused = await call(s, 'POST', '/api/v1/sync-targets', { token: owner.token, body });
    expect(refused.status).toBe(400);
    expect(refused.body.error.message).toMatch(/outbound address policy/);
    await s.database.db.system((tx) =>
      tx.execute(
        sql`UPDATE organizations SET settings = settings || '{"allowPrivateNetworks": true}'::jsonb WHERE id = ${owner.organizationId}`,
      ),
    );
    const both = await call(s, 'POST', '/api/v1/sync-targets', {
      token: owner.token,
      body: { ...body, intervalSeconds: 5, cron: '* * * * *' },
    });
    expect(both.status).toBe(400);
    const badCron = await call(s, 'POST', '/api/v1/sync-targets', {
      token: owner.token,
      body: { ...body, cron: 'every day' },
    });
    expect(badCron.status).toBe(400);
    expect(badCron.body.error.message).toMatch(/cron/);
    const notUrl = await call(s, 'POST', '/api/v1/sync-targets', {
      token: owner.token,
      body: { ...body, url: 'x' },
    });
    expect(notUrl.status).toBe(400);

    const created = await call(s, 'POST', '/api/v1/sync-targets', {
      token: owner.token,
      body: { ...body, intervalSeconds: 3600, batchSize: 3, enabled: false },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ status: 'pending', cursorSequence: 0, apiKeyHint: 'omni…7d41' });
    expect(created.body.secret).toMatch(/^whsec_/);
    target = { id: created.body.id, secret: created.body.secret };
    const listed = await call(s, 'GET', '/api/v1/sync-targets', { token: owner.token });
    expect(JSON.stringify(listed.body)).not.toContain(API_KEY);
    expect(listed.body.data[0].secret).toBeUndefined();
    const stored = await s.database.db.system((tx) =>
      queryRows<{ api_key_encrypted: string }>(tx, sql`SELECT api_key_encrypted FROM sync_targets`),
    );
    expect(stored[0]!.api_key_encrypted).not.toContain(API_KEY);
    const audit = await call(s, 'GET', '/api/v1/audit-logs?entityType=sync_target', { token: owner.token });
    expect(JSON.stringify(audit.body)).not.toContain(API_KEY);
    expect(audit.body.data.map((a: { action: string }) => a.action)).toContain('created');

    const tested = await call(s, 'POST', `/api/v1/sync-targets/${target.id}/test`, { token: owner.token });
    expect(tested.body).toMatchObject({ ok: true, responseCode: 200 });
    expect(
      new Webhook(target.secret).verify(received[0]!.body, received[0]!.headers as Record<string, string>),
    ).toMatchObject({
      type: 'sync.test',
      events: [],
    });
    received.length = 0;
  });

  it('delivers every event once in signed batches through failures, cursor on the last one; resync sends all again', async () => {
    await addEvents(4);
    await addEvents(2, 'other.ignored');
    failNext.push(500, 503, 500);
    const l = loop();
    l.start();
    try {
      const on = await call(s, 'PATCH', `/api/v1/sync-targets/${target.id}`, {
        token: owner.token,
        body: { enabled: true },
      });
      expect(on.status).toBe(200);
      // More events while the receiver is failing.
      await until(async () => received.length >= 2);
      await addEvents(3);
      const want = await outboxIds(['order.']);
      expect(want).toHaveLength(7);
      await until(async () => acceptedEventIds(target.secret).length >= 7);
      const t = await until(async () => {
        const r = await call(s, 'GET', `/api/v1/sync-targets/${target.id}`, { token: owner.token });
        return (
          r.body.cursorSequence === Math.max(...(await outboxIds(['order.', 'other.'])).map((x) => x.seq)) &&
          r.body
        );
      });
      expect(t).toMatchObject({ status: 'success', lastError: null, consecutiveFailures: 0 });
      expect(t.lastSyncAt).not.toBeNull();
      const got = acceptedEventIds(target.secret);
      expect(got).toEqual(want.map((w) => w.id)); // nothing lost, nothing doubled, in order
      expect(received.filter((r) => r.status !== 200)).toHaveLength(3);
      // A retried batch keeps its webhook-id.
      expect(received[3]!.headers['webhook-id']).toBe(received[0]!.headers['webhook-id']);
      const log = await call(s, 'GET', `/api/v1/sync-targets/${target.id}/deliveries`, {
        token: owner.token,
      });
      const batches = log.body.data.filter((d: { kind: string }) => d.kind === 'batch').reverse();
      expect(batches.slice(0, 4).map((d: { ok: boolean; attempt: number }) => [d.ok, d.attempt])).toEqual([
        [false, 1],
        [false, 2],
        [false, 3],
        [true, 4],
      ]);
      expect(batches[0].error).toBe('HTTP 500');
      expect(batches.every((d: { eventCount: number }) => d.eventCount <= 3)).toBe(true);

      received.length = 0;
      const resync = await call(s, 'POST', `/api/v1/sync-targets/${target.id}/resync`, {
        token: owner.token,
      });
      expect(resync.body.cursorSequence).toBe(0);
      await until(async () => acceptedEventIds(target.secret).length >= 7);
      await until(async () => {
        const r = await call(s, 'GET', `/api/v1/sync-targets/${target.id}`, { token: owner.token });
        return r.body.cursorSequence === t.cursorSequence;
      });
      expect(acceptedEventIds(target.secret)).toEqual(want.map((w) => w.id));
    } finally {
      await l.stop();
    }
    expect(s.logs.join('\n')).not.toContain(API_KEY);
  });

  it.skipIf(testBackend() !== 'postgres')(
    'an event whose transaction took its sequence number first but commits last is not skipped',
    async () => {
      received.length = 0;
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      let inserted!: () => void;
      const insertedP = new Promise<void>((r) => (inserted = r));
      const slow = s.database.db.system(async (tx) => {
        await tx.execute(sql`INSERT INTO event_outbox (organization_id, type, payload)
          VALUES (${owner.organizationId}::uuid, 'order.slow', '{}'::jsonb)`);
        inserted();
        await held;
      });
      await insertedP;
      await addEvents(1, 'order.fast');
      const l = loop();
      l.start();
      try {
        await call(s, 'PATCH', `/api/v1/sync-targets/${target.id}`, {
          token: owner.token,
          body: { intervalSeconds: 1 },
        });
        // The fast event waits while the slow transaction is open.
        await sleep(300);
        expect(acceptedEventIds(target.secret)).toEqual([]);
        release();
        await slow;
        await until(async () => acceptedEventIds(target.secret).length >= 2);
        const types = received
          .filter((r) => r.status === 200)
          .flatMap((r) => (JSON.parse(r.body) as { events: { type: string }[] }).events.map((e) => e.type));
        expect(types.sort()).toEqual(['order.fast', 'order.slow']);
      } finally {
        await l.stop();
      }
    },
  );

  it.skipIf(testBackend() !== 'postgres')(
    "a transaction open in another database on the same server does not hold this database's delivery back",
    async () => {
      received.length = 0;
      // psql holds a transaction with an id, older than the events below, in the server's admin database.
      const app = `aiops-sync-test-${process.pid}-${Date.now()}`;
      const other = spawn(
        'psql',
        [
          process.env.DATABASE_URL!,
          '-v',
          'ON_ERROR_STOP=1',
          '-c',
          'BEGIN; SELECT pg_current_xact_id(); SELECT pg_sleep(60); COMMIT;',
        ],
        { stdio: 'ignore', env: { ...process.env, PGAPPNAME: app } },
      );
      const otherBackend = (what: ReturnType<typeof sql>) =>
        s.database.db.system((tx) => queryRows<{ n: number }>(tx, what));
      try {
        await until(async () => {
          const [r] = await otherBackend(
            sql`SELECT count(*)::int AS n FROM pg_stat_activity
                WHERE application_name = ${app} AND datname <> current_database() AND backend_xid IS NOT NULL`,
          );
          return (r?.n ?? 0) > 0;
        }, 20_000);
        await addEvents(2, 'order.beside');
        const l = loop();
        l.start();
        try {
          await call(s, 'PATCH', `/api/v1/sync-targets/${target.id}`, {
            token: owner.token,
            body: { intervalSeconds: 1 },
          });
          // delivered while the other database's transaction is still open
          await until(async () => acceptedEventIds(target.secret).length >= 2, 20_000);
          const [still] = await otherBackend(
            sql`SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = ${app} AND backend_xid IS NOT NULL`,
          );
          expect(still?.n).toBe(1);
        } finally {
          await l.stop();
        }
      } finally {
        // a killed psql leaves its backend sleeping in its transaction: end that too
        await otherBackend(
          sql`SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE application_name = ${app}`,
        );
        other.kill();
      }
    },
  );
});
