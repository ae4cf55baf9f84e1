import { generateKey, parseKeyring, SecretBox } from '@aiops/core';
import { agents, queryRows } from '@aiops/db';
import { type SignedReceiver, startSignedReceiver, testBackend } from '@aiops/testing';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type SignedUp, signUp, startTestServer, type TestServer } from '../../test-support.ts';
import { callDueAgents, fireDueAgentSchedules } from './calls.ts';

let s: TestServer;
const secrets = new SecretBox(parseKeyring(`test:${generateKey()}`));
let owner: SignedUp;
let other: SignedUp;
/** The agent's webhook_url: verifies each call with the secret the schedule showed (401 if it does not). */
let receiver: SignedReceiver;
let receiverUrl: string;

beforeAll(async () => {
  s = await startTestServer({ secrets });
  owner = await signUp(s);
  other = await signUp(s);
  await s.database.db.system((tx) =>
    tx.execute(
      sql`UPDATE organizations SET settings = settings || '{"allowPrivateNetworks": true}'::jsonb WHERE id = ${owner.organizationId}`,
    ),
  );
  receiver = await startSignedReceiver();
  receiverUrl = receiver.url;
});
afterAll(async () => {
  await s?.close();
  await receiver?.close();
});

async function newAgent(token: string, name: string, kind = 'external') {
  const a = await call(s, 'POST', '/api/v1/agents', {
    token,
    body: { name, kind, model: 'simulator:echo', promptTemplate: 'runs elsewhere' },
  });
  expect(a.status).toBe(201);
  return a.body.id as string;
}

const setCursor = (id: string, at: Date) =>
  s.database.db.system((tx) => tx.update(agents).set({ scheduleNextFireAt: at }).where(eq(agents.id, id)));

const firingsOf = (id: string) =>
  s.database.db.system((tx) =>
    queryRows<{ id: string; due_at: Date; status: string; attempts: number; response_code: number | null }>(
      tx,
      sql`SELECT id, due_at, status, attempts, response_code FROM trigger_firings WHERE agent_id = ${id} ORDER BY due_at`,
    ),
  );

const deps = (backoffMs = 1) => ({ db: s.database.db, secrets, log: s.app.log, options: { backoffMs } });

describe(`agent schedules on ${testBackend()}`, () => {
  it('sets a schedule with a secret shown once, lists the next due times, refuses bad input', async () => {
    const id = await newAgent(owner.token, 'Nightly sync');
    const bad = await call(s, 'PUT', `/api/v1/agents/${id}/schedule`, {
      token: owner.token,
      body: { cron: 'every day', timezone: 'UTC', webhookUrl: receiverUrl },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.issues[0].path).toBe('body.cron');
    const tz = await call(s, 'PUT', `/api/v1/agents/${id}/schedule`, {
      token: owner.token,
      body: { cron: '0 3 * * *', timezone: 'Mars/Olympus', webhookUrl: receiverUrl },
    });
    expect(tz.status).toBe(400);
    expect(tz.body.error.details.issues[0].path).toBe('body.timezone');
    const noUrl = await call(s, 'PUT', `/api/v1/agents/${id}/schedule`, {
      token: owner.token,
      body: { cron: '0 3 * * *' },
    });
    expect(noUrl.status).toBe(400);
    expect(noUrl.body.error.details.issues[0].path).toBe('body.webhookUrl');
    const llm = await newAgent(owner.token, 'Writer', 'llm');
    const wrongKind = await call(s, 'PUT', `/api/v1/agents/${llm}/schedule`, {
      token: owner.token,
      body: { cron: '0 3 * * *', webhookUrl: receiverUrl },
    });
    // An llm agent's schedule starts runs: it has no URL to call.
    expect(wrongKind.status).toBe(400);
    expect(wrongKind.body.error.details.issues[0].path).toBe('body.webhookUrl');

    const put = await call(s, 'PUT', `/api/v1/agents/${id}/schedule`, {
      token: owner.token,
      body: { cron: '0 3 * * *', timezone: 'Europe/Berlin', webhookUrl: receiverUrl },
    });
    expect(put.status).toBe(200);
    expect(put.body.secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    expect(put.body.secretHint).toBe(`${put.body.secret.slice(0, 6)}…${put.body.secret.slice(-4)}`);
    expect(put.body).toMatchObject({ cron: '0 3 * * *', timezone: 'Europe/Berlin', enabled: true });
    expect(put.body.nextFireTimes).toHaveLength(5);
    for (const t of put.body.nextFireTimes) {
      const local = new Intl.DateTimeFormat('en-GB', {
        timeZone: 'Europe/Berlin',
        hour: '2-digit',
        minute: '2-digit',
      }).format(new Date(t));
      expect(local).toBe('03:00');
    }
    const got = await call(s, 'GET', `/api/v1/agents/${id}/schedule`, { token: owner.token });
    expect(got.status).toBe(200);
    expect(got.body.secret).toBeUndefined();
    expect(JSON.stringify(got.body)).not.toContain(put.body.secret);
    const agent = await call(s, 'GET', `/api/v1/agents/${id}`, { token: owner.token });
    expect(agent.body).toMatchObject({ schedule: '0 3 * * *', webhookUrl: receiverUrl });
    // Another organization sees nothing of it.
    const foreign = await call(s, 'GET', `/api/v1/agents/${id}/schedule`, { token: other.token });
    expect(foreign.status).toBe(404);
    const audit = await call(s, 'GET', '/api/v1/audit-logs?entityType=agent_schedule', {
      token: owner.token,
    });
    expect(audit.body.data.map((a: { action: string }) => a.action)).toContain('created');
  });

  it('calls the webhook_url once per due time across concurrent passes, signed, retrying until it answers 2xx', async () => {
    const id = await newAgent(owner.token, 'Every five minutes');
    const put = await call(s, 'PUT', `/api/v1/agents/${id}/schedule`, {
      token: owner.token,
      body: { cron: '*/5 * * * *', timezone: 'UTC', webhookUrl: receiverUrl },
    });
    receiver.secret = put.body.secret;
    const due = new Date(Math.floor(Date.now() / 300_000) * 300_000);
    const now = new Date(due.getTime() + 10_000);
    await setCursor(id, due);
    // Three processes' passes at once: one firing.
    await Promise.all([1, 2, 3].map(() => fireDueAgentSchedules(s.database.db, now)));
    await fireDueAgentSchedules(s.database.db, now);
    const all = await firingsOf(id);
    expect(all).toHaveLength(1);
    const [f] = all;
    expect(new Date(f!.due_at).toISOString()).toBe(due.toISOString());
    // The agent answers 503 twice, then 200: three signed calls with the same webhook-id.
    receiver.answers.push({ status: 503 }, { status: 503 });
    receiver.received.length = 0;
    for (let i = 0; i < 3; i++) {
      expect(await callDueAgents(deps())).toBe(1);
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(await callDueAgents(deps())).toBe(0);
    expect(receiver.received).toHaveLength(3);
    expect(new Set(receiver.received.map((r) => r.headers['webhook-id']))).toEqual(new Set([f!.id]));
    for (const r of receiver.received) {
      expect(r.verified).toMatchObject({
        type: 'agent.scheduled',
        agentId: id,
        agentName: 'Every five minutes',
        firingId: f!.id,
        scheduledAt: due.toISOString(),
        timezone: 'UTC',
      });
    }
    expect(receiver.received.map((r) => JSON.parse(r.body).attempt)).toEqual([1, 2, 3]);
    const [done] = await firingsOf(id);
    expect(done).toMatchObject({ status: 'done', attempts: 3, response_code: 200 });
    const log = await call(s, 'GET', `/api/v1/agents/${id}/schedule`, { token: owner.token });
    expect(log.body.calls[0]).toMatchObject({ id: f!.id, status: 'done', attempts: 3, responseCode: 200 });
    const agent = await s.database.db.system((tx) => tx.select().from(agents).where(eq(agents.id, id)));
    expect(agent[0]!.scheduleNextFireAt!.getTime()).toBe(due.getTime() + 300_000);
  });

  it('gives up after the attempt budget, refuses a rotated-out secret, and skips due times missed in downtime', async () => {
    const id = await newAgent(owner.token, 'Flaky');
    const put = await call(s, 'PUT', `/api/v1/agents/${id}/schedule`, {
      token: owner.token,
      body: { cron: '* * * * *', timezone: 'UTC', webhookUrl: receiverUrl },
    });
    // The receiver still verifies with the old secret: every call after the rotation is refused (401).
    receiver.secret = put.body.secret;
    const rotated = await call(s, 'POST', `/api/v1/agents/${id}/schedule/secret`, { token: owner.token });
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    expect(rotated.body.secret).not.toBe(put.body.secret);
    const minute = new Date(Math.floor(Date.now() / 60_000) * 60_000);
    // Down for ten minutes: only the on-time due time fires (missed ones are skipped).
    await setCursor(id, new Date(minute.getTime() - 600_000));
    await fireDueAgentSchedules(s.database.db, new Date(minute.getTime() + 1000));
    expect((await firingsOf(id)).map((f) => new Date(f.due_at).getTime())).toEqual([minute.getTime()]);
    receiver.received.length = 0;
    const d = { ...deps(), options: { backoffMs: 1, maxAttempts: 2 } };
    await callDueAgents(d);
    await new Promise((r) => setTimeout(r, 20));
    await callDueAgents(d);
    expect(await callDueAgents(d)).toBe(0);
    expect(receiver.received.map((r) => r.verified)).toEqual([null, null]);
    const rows = await firingsOf(id);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ status: 'failed', attempts: 2, response_code: 401 });
    // With the new secret the receiver accepts the next call.
    receiver.secret = rotated.body.secret;
    await setCursor(id, new Date(minute.getTime() + 60_000));
    await fireDueAgentSchedules(s.database.db, new Date(minute.getTime() + 61_000));
    expect(await firingsOf(id)).toHaveLength(2);
    await callDueAgents(d);
    expect((await firingsOf(id)).at(-1)).toMatchObject({ status: 'done', attempts: 1, response_code: 200 });
    // A disabled agent's schedule does not fire; nor do disabled or deleted schedules.
    expect(
      (await call(s, 'PATCH', `/api/v1/agents/${id}`, { token: owner.token, body: { enabled: false } }))
        .status,
    ).toBe(200);
    await setCursor(id, new Date(minute.getTime() + 120_000));
    await fireDueAgentSchedules(s.database.db, new Date(minute.getTime() + 121_000));
    expect(await firingsOf(id)).toHaveLength(2);
    expect(
      (await call(s, 'PATCH', `/api/v1/agents/${id}`, { token: owner.token, body: { enabled: true } }))
        .status,
    ).toBe(200);
    await call(s, 'PUT', `/api/v1/agents/${id}/schedule`, {
      token: owner.token,
      body: { cron: '* * * * *', timezone: 'UTC', enabled: false },
    });
    await setCursor(id, new Date(minute.getTime() + 120_000));
    await fireDueAgentSchedules(s.database.db, new Date(minute.getTime() + 121_000));
    expect(await firingsOf(id)).toHaveLength(2);
    const del = await call(s, 'DELETE', `/api/v1/agents/${id}/schedule`, { token: owner.token });
    expect(del.status).toBe(200);
    expect(del.body).toMatchObject({ cron: null, nextFireTimes: [] });
    expect(del.body.calls).toHaveLength(2);
  });
});
