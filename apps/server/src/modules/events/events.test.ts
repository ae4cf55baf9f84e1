import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateKey, parseKeyring, SecretBox } from '@aiops/core';
import { queryRows } from '@aiops/db';
import { testBackend } from '@aiops/testing';
import { sql } from 'drizzle-orm';
import { connect, type NatsConnection } from 'nats';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runJobNow } from '../../jobs/index.ts';
import type { JobDeps } from '../../jobs/types.ts';
import { call, type SignedUp, signUp, startTestServer, type TestServer } from '../../test-support.ts';
import { pruneEventsJob } from './jobs.ts';
import { NatsPublisher, streamName, subjectOf } from './nats.ts';
import { OutboxLoop, type OutboxOptions } from './outbox.ts';
import { STREAM_FALLBACK_POLL_MS } from './routes.ts';

let s: TestServer;
const secrets = new SecretBox(parseKeyring(`test:${generateKey()}`));
let owner: SignedUp;
let wf: string;
let receiver: Server;
let receiverUrl: string;
/** Bodies containing a key get the listed status codes first (then 200). */
const failFor = new Map<string, number[]>();
const received: { headers: IncomingHttpHeaders; body: string }[] = [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  s = await startTestServer({ worker: true, secrets });
  owner = await signUp(s);
  await s.database.db.system((tx) =>
    tx.execute(
      sql`UPDATE organizations SET settings = settings || '{"allowPrivateNetworks": true}'::jsonb WHERE id = ${owner.organizationId}`,
    ),
  );
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      const key = [...failFor.keys()].find((k) => body.includes(k));
      res.statusCode = (key && failFor.get(key)!.shift()) || 200;
      res.end('ok');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  const r = await call(s, 'POST', '/api/v1/workflows', {
    token: owner.token,
    body: {
      status: 'active',
      definition: {
        name: 'orders',
        nodes: [
          {
            id: 'think',
            type: 'agent',
            agent: { model: 'simulator:echo', prompt: 'order {{input.data.total}}' },
          },
          { id: 'result', type: 'output', value: { said: '{{nodes.think.output}}' } },
        ],
        connections: [{ from: 'think', to: 'result' }],
      },
    },
  });
  wf = r.body.id;
});
afterAll(async () => {
  await s?.close();
  receiver?.close();
});

function loop(options: Partial<OutboxOptions> = {}) {
  return new OutboxLoop({
    db: s.database.db,
    secrets,
    nats: new NatsPublisher('nats://127.0.0.1:4222'),
    log: s.app.log,
    options: { backoffMs: 50, ...options },
  });
}
async function until<T>(fn: () => Promise<T | undefined | false>, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error('timed out');
    await sleep(50);
  }
}

describe(`events and event triggers on ${testBackend()}`, () => {
  it('POST /events fans out to matching triggers (type, source, CEL filter), idempotent on id; GET /events lists runs', async () => {
    const big = await call(s, 'POST', `/api/v1/workflows/${wf}/triggers`, {
      token: owner.token,
      body: {
        type: 'event',
        name: 'big orders',
        maxConcurrentExecutions: null,
        event: { type: 'order.created', source: 'shop', filter: 'data.total > 100' },
      },
    });
    expect(big.status).toBe(201);
    await call(s, 'POST', `/api/v1/workflows/${wf}/triggers`, {
      token: owner.token,
      body: {
        type: 'event',
        name: 'any source',
        maxConcurrentExecutions: null,
        event: { type: 'order.created' },
      },
    });
    const id = `evt-${randomUUID()}`;
    const posted = await call(s, 'POST', '/api/v1/events', {
      token: owner.token,
      body: { id, type: 'order.created', source: 'shop', data: { total: 250 } },
    });
    expect(posted.status).toBe(201);
    expect(posted.body.triggersMatched).toBe(2);
    expect(posted.body.runs).toHaveLength(2);
    expect(posted.body.runs.every((r: { runId: string }) => r.runId)).toBe(true);
    const again = await call(s, 'POST', '/api/v1/events', {
      token: owner.token,
      body: { id, type: 'order.created', source: 'shop', data: { total: 250 } },
    });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ duplicate: true, id: posted.body.id });
    expect(again.body.runs).toHaveLength(2);

    const small = await call(s, 'POST', '/api/v1/events', {
      token: owner.token,
      body: { type: 'order.created', source: 'pos', data: { total: 5 } },
    });
    expect(small.body.triggersMatched).toBe(1);
    const other = await call(s, 'POST', '/api/v1/events', {
      token: owner.token,
      body: { type: 'order.deleted', source: 'shop', data: {} },
    });
    expect(other.body.triggersMatched).toBe(0);

    const run = await call(s, 'GET', `/api/v1/runs/${posted.body.runs[0].runId}`, { token: owner.token });
    expect(run.body).toMatchObject({ triggeredBy: 'event', externalTriggerId: id });
    expect(run.body.metadata.trigger.eventId).toBe(posted.body.id);
    expect(run.body.input).toMatchObject({ id, type: 'order.created', data: { total: 250 } });
    const list = await call(s, 'GET', '/api/v1/events?limit=10', { token: owner.token });
    expect(list.body.data.map((e: { externalId: string }) => e.externalId)).toContain(id);
    const bad = await call(s, 'POST', '/api/v1/events', { token: owner.token, body: { type: 'x' } });
    expect(bad.status).toBe(400);
  });

  it('outbox: lifecycle events are written with the change, delivered signed to a webhook with retries', async () => {
    const sink = await call(s, 'POST', '/api/v1/event-sinks', {
      token: owner.token,
      body: {
        kind: 'webhook',
        name: 'receiver',
        url: receiverUrl,
        eventTypes: ['workflow_finished', 'agent_task_*'],
      },
    });
    expect(sink.status).toBe(201);
    const secret = sink.body.secret as string;
    received.length = 0;
    const r = await call(s, 'POST', `/api/v1/workflows/${wf}/runs`, {
      token: owner.token,
      body: { input: { data: { total: 1 } }, wait: 10 },
    });
    failFor.set(`"runId":"${r.body.id}","status":"completed"`, [500, 503]);
    expect(r.body.status).toBe('completed');
    const types = await s.database.db.withTenant(owner.organizationId, (tx) =>
      queryRows<{ type: string }>(
        tx,
        sql`SELECT type FROM event_outbox WHERE subject_id = ${r.body.id} ORDER BY seq`,
      ),
    );
    expect(types.map((t) => t.type)).toEqual([
      'workflow_started',
      'agent_task_completed',
      'workflow_finished',
    ]);
    const l = loop();
    l.start();
    try {
      const finished = await until(
        async () =>
          received.filter((x) => x.body.includes(r.body.id) && x.body.includes('workflow_finished'))[2],
      );
      const msg = new Webhook(secret).verify(finished.body, finished.headers as Record<string, string>) as {
        id: string;
        type: string;
        data: { runId: string; status: string };
      };
      expect(msg).toMatchObject({
        type: 'workflow_finished',
        data: { runId: r.body.id, status: 'completed' },
      });
      const log = await until(async () => {
        const d = await call(s, 'GET', `/api/v1/event-sinks/${sink.body.id}/deliveries`, {
          token: owner.token,
        });
        const f = d.body.data.find((x: { outboxId: string; status: string }) => x.outboxId === msg.id);
        return f?.status === 'delivered' ? d.body.data : undefined;
      });
      const fin = log.find((x: { outboxId: string }) => x.outboxId === msg.id);
      expect(fin).toMatchObject({ status: 'delivered', responseCode: 200, attempts: 3 });
      const task = log.find((x: { eventType: string }) => x.eventType === 'agent_task_completed');
      expect(task).toBeDefined();
      // Manual redelivery sends the same event (same webhook-id) again.
      const before = received.length;
      const re = await call(s, 'POST', `/api/v1/event-sinks/${sink.body.id}/deliveries/${fin.id}/redeliver`, {
        token: owner.token,
      });
      expect(re.status).toBe(200);
      await until(async () => received.length > before);
      expect(received.at(-1)!.headers['webhook-id']).toBe(fin.outboxId);
    } finally {
      await l.stop();
      await call(s, 'DELETE', `/api/v1/event-sinks/${sink.body.id}`, { token: owner.token });
    }
  });

  it('sink secret rotation: during the grace period deliveries carry both signatures; without one only the new', async () => {
    const sink = await call(s, 'POST', '/api/v1/event-sinks', {
      token: owner.token,
      body: { kind: 'webhook', name: 'rotating', url: receiverUrl, eventTypes: ['workflow_created'] },
    });
    const oldSecret = sink.body.secret as string;
    const rotated = await call(s, 'POST', `/api/v1/event-sinks/${sink.body.id}/secret`, {
      token: owner.token,
      body: { graceSeconds: 3600 },
    });
    expect(rotated.status).toBe(200);
    const newSecret = rotated.body.secret as string;
    expect(newSecret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    expect(newSecret).not.toBe(oldSecret);
    expect(rotated.body.secretHint).toBe(`${newSecret.slice(0, 6)}…${newSecret.slice(-4)}`);
    const grace = new Date(rotated.body.previousSecretExpiresAt).getTime() - Date.now();
    expect(grace).toBeGreaterThan(3_500_000);
    expect(grace).toBeLessThanOrEqual(3_600_000);
    const listed = await call(s, 'GET', '/api/v1/event-sinks', { token: owner.token });
    expect(JSON.stringify(listed.body)).not.toContain(newSecret);
    const bad = await call(s, 'POST', `/api/v1/event-sinks/${sink.body.id}/secret`, {
      token: owner.token,
      body: { graceSeconds: 10_000_000 },
    });
    expect(bad.status).toBe(400);

    const deliverOne = async (name: string) => {
      await call(s, 'POST', '/api/v1/workflows', {
        token: owner.token,
        body: { definition: { name, nodes: [{ id: 'o', type: 'output', value: 1 }], connections: [] } },
      });
      const l = loop();
      l.start();
      try {
        return await until(async () => received.find((x) => x.body.includes(name)));
      } finally {
        await l.stop();
      }
    };
    const during = await deliverOne(`rot-${randomUUID()}`);
    const sigs = String(during.headers['webhook-signature']).split(' ');
    expect(sigs).toHaveLength(2);
    for (const sig of sigs) expect(sig).toMatch(/^v1,[A-Za-z0-9+/=]{44}$/);
    // A receiver still on the old secret and one already on the new one both accept it.
    for (const secret of [oldSecret, newSecret]) {
      expect(new Webhook(secret).verify(during.body, during.headers as Record<string, string>)).toMatchObject(
        {
          type: 'workflow_created',
        },
      );
    }
    // Rotating with no grace period: only the newest secret signs, the previous ones are refused.
    const now = await call(s, 'POST', `/api/v1/event-sinks/${sink.body.id}/secret`, {
      token: owner.token,
      body: { graceSeconds: 0 },
    });
    expect(now.body.previousSecretExpiresAt).toBeNull();
    const after = await deliverOne(`rot-${randomUUID()}`);
    expect(String(after.headers['webhook-signature']).split(' ')).toHaveLength(1);
    expect(
      new Webhook(now.body.secret).verify(after.body, after.headers as Record<string, string>),
    ).toMatchObject({
      type: 'workflow_created',
    });
    expect(() =>
      new Webhook(newSecret).verify(after.body, after.headers as Record<string, string>),
    ).toThrow();
    const audit = await call(s, 'GET', '/api/v1/audit-logs?entityType=event_sink', { token: owner.token });
    expect(audit.body.data.filter((a: { action: string }) => a.action === 'secret_rotated')).toHaveLength(2);
    await call(s, 'DELETE', `/api/v1/event-sinks/${sink.body.id}`, { token: owner.token });
  });

  it('a sink whose deliveries keep failing is disabled; the outbound policy refuses a private URL without consent', async () => {
    const failing = await call(s, 'POST', '/api/v1/event-sinks', {
      token: owner.token,
      body: {
        kind: 'webhook',
        name: 'down',
        url: receiverUrl.replace(/:\d+/, ':1'),
        eventTypes: ['workflow_created'],
      },
    });
    for (let i = 0; i < 3; i++) {
      await call(s, 'POST', '/api/v1/workflows', {
        token: owner.token,
        body: {
          definition: {
            name: `w${i}-${randomUUID()}`,
            nodes: [{ id: 'o', type: 'output', value: 1 }],
            connections: [],
          },
        },
      });
    }
    const l = loop({ maxAttempts: 1, disableAfter: 2 });
    l.start();
    try {
      const disabled = await until(async () => {
        const r = await call(s, 'GET', '/api/v1/event-sinks', { token: owner.token });
        const x = r.body.data.find((d: { id: string }) => d.id === failing.body.id);
        return x && !x.enabled ? x : undefined;
      });
      expect(disabled.disabledReason).toContain('disabled after 2');
    } finally {
      await l.stop();
    }
    const stranger = await signUp(s);
    const refused = await call(s, 'POST', '/api/v1/event-sinks', {
      token: stranger.token,
      body: { kind: 'webhook', name: 'x', url: receiverUrl },
    });
    expect(refused.status).toBe(400);
    expect(refused.body.error.message).toContain('loopback');
  });

  it('NATS JetStream: events are published per organization and type, de-duplicated by outbox id', async () => {
    const prefix = `t${randomUUID().slice(0, 8)}`;
    const sink = await call(s, 'POST', '/api/v1/event-sinks', {
      token: owner.token,
      body: { kind: 'nats', name: 'nats', subjectPrefix: prefix, eventTypes: ['workflow_finished'] },
    });
    expect(sink.status).toBe(201);
    const r = await call(s, 'POST', `/api/v1/workflows/${wf}/runs`, {
      token: owner.token,
      body: { input: { data: { total: 2 } }, wait: 10 },
    });
    const l = loop();
    l.start();
    let nc: NatsConnection | undefined;
    try {
      const d = await until(async () => {
        const x = await call(s, 'GET', `/api/v1/event-sinks/${sink.body.id}/deliveries`, {
          token: owner.token,
        });
        return x.body.data[0]?.status === 'delivered' ? x.body.data[0] : undefined;
      });
      nc = await connect({ servers: 'nats://127.0.0.1:4222' });
      const jsm = await nc.jetstreamManager();
      const subject = subjectOf(prefix, owner.organizationId, 'workflow_finished');
      const m = await jsm.streams.getMessage(streamName(prefix), { last_by_subj: subject });
      const body = JSON.parse(new TextDecoder().decode(m.data));
      expect(body).toMatchObject({ id: d.outboxId, type: 'workflow_finished', data: { runId: r.body.id } });
      expect(m.header.get('Nats-Msg-Id')).toBe(d.outboxId);
      // Redelivery (as after a crash between publish and the delivery's commit) is stored once.
      await call(s, 'POST', `/api/v1/event-sinks/${sink.body.id}/deliveries/${d.id}/redeliver`, {
        token: owner.token,
      });
      await until(async () => {
        const x = await call(s, 'GET', `/api/v1/event-sinks/${sink.body.id}/deliveries`, {
          token: owner.token,
        });
        return x.body.data[0]?.status === 'delivered' && x.body.data[0].attempts === 1;
      });
      const info = await jsm.streams.info(streamName(prefix));
      expect(info.state.messages).toBe(1);
      await jsm.streams.delete(streamName(prefix));
    } finally {
      await nc?.close();
      await l.stop();
      await call(s, 'DELETE', `/api/v1/event-sinks/${sink.body.id}`, { token: owner.token });
    }
  });

  it('the outbox survives a crash between commit and delivery, and a delivery whose process died is retried', async () => {
    const sink = await call(s, 'POST', '/api/v1/event-sinks', {
      token: owner.token,
      body: { kind: 'webhook', name: 'crash', url: receiverUrl, eventTypes: ['workflow_created'] },
    });
    // Committed with no delivery process running ("crashed"):
    const name = `crash-${randomUUID()}`;
    await call(s, 'POST', '/api/v1/workflows', {
      token: owner.token,
      body: { definition: { name, nodes: [{ id: 'o', type: 'output', value: 1 }], connections: [] } },
    });
    // A process dispatched it and took the lease, then died: the lease expires.
    const first = loop();
    await first.pass().catch(() => {});
    await s.database.db.system((tx) =>
      tx.execute(sql`UPDATE event_deliveries SET status = 'pending', lease_until = now() - interval '1 second',
        attempts = 1 WHERE sink_id = ${sink.body.id}`),
    );
    received.length = 0;
    const l = loop();
    l.start();
    try {
      await until(async () => received.find((x) => x.body.includes(name)));
    } finally {
      await l.stop();
      await call(s, 'DELETE', `/api/v1/event-sinks/${sink.body.id}`, { token: owner.token });
    }
  });

  it('GET /events/stream sends outbound events live as Server-Sent Events', async () => {
    const ac = new AbortController();
    const res = await fetch(`${s.url}/api/v1/events/stream?types=workflow_finished`, {
      headers: { authorization: `Bearer ${owner.token}` },
      signal: ac.signal,
    });
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const reader = res.body!.getReader();
    let text = '';
    await reader.read();
    const r = await call(s, 'POST', `/api/v1/workflows/${wf}/runs`, {
      token: owner.token,
      body: { input: { data: { total: 3 } }, wait: 10 },
    });
    while (!text.includes(r.body.id)) {
      const chunk = await reader.read();
      if (chunk.done) break;
      text += new TextDecoder().decode(chunk.value);
    }
    ac.abort();
    expect(text).toContain('event: workflow_finished');
    expect(text).not.toContain('event: workflow_started');
  });

  it('new outbox rows wake the live streams of their organization by NOTIFY (no 500 ms polling)', async () => {
    const got: string[] = [];
    const unlisten = await s.database.db.listen('aiops_outbox', (p) => got.push(p));
    try {
      await s.database.db.system((tx) =>
        tx.execute(sql`INSERT INTO event_outbox (organization_id, type, payload)
          VALUES (${owner.organizationId}, 'wake.test', '{}'), (${owner.organizationId}, 'wake.test', '{}')`),
      );
      const until = Date.now() + 10_000;
      while (!got.length && Date.now() < until) await sleep(20);
      // The notification carries the organization id (PostgreSQL folds equal ones of one transaction).
      expect(new Set(got)).toEqual(new Set([owner.organizationId]));
    } finally {
      await unlisten();
    }
    // The stream picks such a row up at once, long before its fallback poll.
    const ac = new AbortController();
    const res = await fetch(`${s.url}/api/v1/events/stream?types=wake.*`, {
      headers: { authorization: `Bearer ${owner.token}` },
      signal: ac.signal,
    });
    const reader = res.body!.getReader();
    await reader.read();
    await sleep(300);
    const at = Date.now();
    await s.database.db.system((tx) =>
      tx.execute(sql`INSERT INTO event_outbox (organization_id, type, payload)
        VALUES (${owner.organizationId}, 'wake.live', '{"n": 1}')`),
    );
    let text = '';
    while (!text.includes('wake.live')) {
      const chunk = await reader.read();
      if (chunk.done) break;
      text += new TextDecoder().decode(chunk.value);
    }
    const waited = Date.now() - at;
    ac.abort();
    expect(text).toContain('event: wake.live');
    expect(waited).toBeLessThan(STREAM_FALLBACK_POLL_MS);
  });

  it('the daily events.prune job deletes dispatched outbox rows older than 7 days and keeps the rest', async () => {
    const db = s.database.db;
    const ids = await db.system((tx) =>
      queryRows<{ id: string; old: boolean }>(
        tx,
        sql`INSERT INTO event_outbox (organization_id, type, payload, created_at, dispatched_at)
            VALUES (${owner.organizationId}, 'test.old', '{}', now() - interval '9 days', now() - interval '9 days'),
                   (${owner.organizationId}, 'test.new', '{}', now(), now()),
                   (${owner.organizationId}, 'test.undispatched', '{}', now() - interval '9 days', NULL)
            RETURNING id, type = 'test.old' AS old`,
      ),
    );
    const deps = { db, secrets, log: s.app.log } as unknown as JobDeps;
    await runJobNow(pruneEventsJob, deps);
    await runJobNow(pruneEventsJob, deps);
    const left = await db.system((tx) =>
      queryRows<{ id: string }>(tx, sql`SELECT id FROM event_outbox WHERE type LIKE 'test.%'`),
    );
    expect(left.map((r) => r.id).sort()).toEqual(
      ids
        .filter((r) => !r.old)
        .map((r) => r.id)
        .sort(),
    );
  });
});
