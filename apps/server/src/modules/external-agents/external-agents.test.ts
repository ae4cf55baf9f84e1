import { agentLogs, externalAgentMonitors } from '@aiops/db';
import { testBackend } from '@aiops/testing';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runJobNow } from '../../jobs/scheduler.ts';
import { call, type SignedUp, signUp, startTestServer, type TestServer } from '../../test-support.ts';
import { sweepOffline } from './repo.ts';
import { externalAgentsSweepJob } from './sweep-job.ts';

let s: TestServer;
let owner: SignedUp;
let other: SignedUp;

const externalAgent = (name: string) => ({
  name,
  kind: 'external',
  model: 'simulator:echo',
  promptTemplate: 'runs elsewhere',
});

async function newExternal(token: string, name: string, window = {}) {
  const a = await call(s, 'POST', '/api/v1/agents', { token, body: externalAgent(name) });
  expect(a.status).toBe(201);
  const k = await call(s, 'POST', `/api/v1/agents/${a.body.id}/key`, { token, body: window });
  expect(k.status).toBe(201);
  return { id: a.body.id as string, key: k.body.key as string, monitor: k.body.monitor };
}

/** Moves an agent's last heartbeat (and key creation) back by `seconds`. */
async function age(agentId: string, seconds: number) {
  await s.database.db.system((tx) =>
    tx.execute(sql`UPDATE external_agent_monitors SET
      last_heartbeat_at = last_heartbeat_at - make_interval(secs => ${seconds}),
      created_at = created_at - make_interval(secs => ${seconds}) WHERE agent_id = ${agentId}`),
  );
}

beforeAll(async () => {
  s = await startTestServer();
  owner = await signUp(s);
  other = await signUp(s);
});
afterAll(() => s?.close());

describe(`external agents on ${testBackend()}`, () => {
  it('issues a key once (hashed), takes heartbeats and logs with it, and derives online/error', async () => {
    const { id, key, monitor } = await newExternal(owner.token, 'Nightly ETL', {
      expectedIntervalSeconds: 30,
      graceSeconds: 10,
    });
    expect(key).toMatch(/^agk_[A-Za-z0-9_-]{40,}$/);
    expect(monitor).toMatchObject({ state: 'unknown', expectedIntervalSeconds: 30, graceSeconds: 10 });
    expect(key.startsWith(monitor.keyPrefix)).toBe(true);
    const stored = await s.database.db.system((tx) =>
      tx.select().from(externalAgentMonitors).where(sql`agent_id = ${id}`),
    );
    expect(stored[0]!.keyHash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(stored)).not.toContain(key);
    const got = await call(s, 'GET', `/api/v1/agents/${id}/monitor`, { token: owner.token });
    expect(JSON.stringify(got.body)).not.toContain(key);

    const hb = await call(s, 'POST', `/api/v1/agents/${id}/heartbeat`, {
      token: key,
      body: { status: 'ok', metrics: { cpu: 0.42, memory: 512 }, version: '2.1.0' },
    });
    expect(hb.status).toBe(200);
    expect(hb.body.state).toBe('online');
    expect(new Date(hb.body.nextHeartbeatBefore).getTime() - Date.now()).toBeGreaterThan(30_000);
    const m = await call(s, 'GET', `/api/v1/agents/${id}/monitor`, { token: owner.token });
    expect(m.body).toMatchObject({
      state: 'online',
      reportedStatus: 'ok',
      reportedVersion: '2.1.0',
      metrics: { cpu: 0.42, memory: 512 },
    });
    expect(m.body.lastHeartbeatAt).not.toBeNull();
    const agent = await call(s, 'GET', `/api/v1/agents/${id}`, { token: owner.token });
    expect(agent.body.kind).toBe('external');

    const err = await call(s, 'POST', `/api/v1/agents/${id}/heartbeat`, {
      token: key,
      body: { status: 'error' },
    });
    expect(err.body.state).toBe('error');
    // An empty heartbeat is fine and brings it back online.
    expect((await call(s, 'POST', `/api/v1/agents/${id}/heartbeat`, { token: key })).body.state).toBe(
      'online',
    );

    const started = new Date(Date.now() - 1500).toISOString();
    const completed = new Date().toISOString();
    const l1 = await call(s, 'POST', `/api/v1/agents/${id}/logs`, {
      token: key,
      body: { status: 'success', message: 'loaded 120 rows', startedAt: started, completedAt: completed },
    });
    expect(l1.status).toBe(201);
    expect(l1.body.durationMs).toBeGreaterThanOrEqual(1400);
    const l2 = await call(s, 'POST', `/api/v1/agents/${id}/logs`, {
      token: key,
      body: { status: 'error', message: 'source down', details: { code: 503 }, durationMs: 20 },
    });
    expect(l2.body).toMatchObject({ status: 'error', details: { code: 503 }, durationMs: 20 });
    const logs = await call(s, 'GET', `/api/v1/agents/${id}/logs`, { token: owner.token });
    expect(logs.body.data.map((l: { message: string }) => l.message)).toEqual([
      'source down',
      'loaded 120 rows',
    ]);
    const errors = await call(s, 'GET', `/api/v1/agents/${id}/logs?status=error`, { token: owner.token });
    expect(errors.body.data).toHaveLength(1);

    const board = await call(s, 'GET', '/api/v1/external-agents', { token: owner.token });
    expect(board.body.data.map((b: { agentName: string }) => b.agentName)).toContain('Nightly ETL');

    // Key changes are audited; the key itself is not in the audit row.
    const auditRows = await s.database.db.system((tx) =>
      tx.execute(
        sql`SELECT action, changes::text AS c FROM audit_logs WHERE entity_type = 'agent_key' AND entity_id = ${id}`,
      ),
    );
    const rows = (auditRows as unknown as { rows: { action: string; c: string }[] }).rows;
    expect(rows.map((r) => r.action)).toEqual(['created']);
    expect(rows[0]!.c).not.toContain(key);
  });

  it('refuses bad input with a 4xx that says what to fix', async () => {
    const { id, key } = await newExternal(owner.token, 'Validator');
    const bad = await call(s, 'POST', `/api/v1/agents/${id}/logs`, { token: key, body: { status: 'fine' } });
    expect(bad.status).toBe(400);
    const backwards = await call(s, 'POST', `/api/v1/agents/${id}/logs`, {
      token: key,
      body: { status: 'success', startedAt: '2026-01-02T00:00:00Z', completedAt: '2026-01-01T00:00:00Z' },
    });
    expect(backwards.status).toBe(400);
    expect(backwards.body.error.message).toContain('completedAt');
    const tooMany = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`m${i}`, i]));
    expect(
      (await call(s, 'POST', `/api/v1/agents/${id}/heartbeat`, { token: key, body: { metrics: tooMany } }))
        .status,
    ).toBe(400);
    const interval = await call(s, 'PATCH', `/api/v1/agents/${id}/monitor`, {
      token: owner.token,
      body: { expectedIntervalSeconds: 1 },
    });
    expect(interval.status).toBe(400);
    const llm = await call(s, 'POST', '/api/v1/agents', {
      token: owner.token,
      body: { name: 'Plain', model: 'simulator:echo', promptTemplate: 'x' },
    });
    const noKey = await call(s, 'POST', `/api/v1/agents/${llm.body.id}/key`, {
      token: owner.token,
      body: {},
    });
    expect(noKey.status).toBe(409);
    expect(noKey.body.error.message).toContain('external');
  });

  it('an agent key acts only for its own agent: nothing else can be read or written with it', async () => {
    const a = await newExternal(owner.token, 'Agent A');
    const b = await newExternal(owner.token, 'Agent B');
    const foreign = await newExternal(other.token, 'Foreign');

    const cross = await call(s, 'POST', `/api/v1/agents/${b.id}/heartbeat`, { token: a.key });
    expect(cross.status).toBe(403);
    expect(
      (await call(s, 'POST', `/api/v1/agents/${b.id}/logs`, { token: a.key, body: { status: 'success' } }))
        .status,
    ).toBe(403);
    expect((await call(s, 'POST', `/api/v1/agents/${foreign.id}/heartbeat`, { token: a.key })).status).toBe(
      403,
    );
    for (const [method, path] of [
      ['GET', `/api/v1/agents/${a.id}`],
      ['GET', `/api/v1/agents/${a.id}/logs`],
      ['GET', `/api/v1/agents/${a.id}/monitor`],
      ['GET', '/api/v1/agents'],
      ['GET', '/api/v1/external-agents'],
      ['POST', `/api/v1/agents/${a.id}/key`],
      ['PATCH', `/api/v1/agents/${a.id}/monitor`],
      ['GET', '/api/v1/workflows'],
      ['GET', '/api/v1/me'],
      ['GET', '/api/v1/audit-logs'],
    ] as const) {
      const r = await call(s, method, path, { token: a.key, ...(method === 'GET' ? {} : { body: {} }) });
      expect(r.status, `${method} ${path}`).toBe(401);
    }
    // Without a key, or with a user's token, the heartbeat is refused.
    expect((await call(s, 'POST', `/api/v1/agents/${a.id}/heartbeat`)).status).toBe(401);
    expect((await call(s, 'POST', `/api/v1/agents/${a.id}/heartbeat`, { token: owner.token })).status).toBe(
      401,
    );
    // B's state was not touched by A's attempts.
    expect((await call(s, 'GET', `/api/v1/agents/${b.id}/monitor`, { token: owner.token })).body.state).toBe(
      'unknown',
    );

    // Rotating the key: the old one stops working, the new one works.
    const rotated = await call(s, 'POST', `/api/v1/agents/${a.id}/key`, { token: owner.token, body: {} });
    expect((await call(s, 'POST', `/api/v1/agents/${a.id}/heartbeat`, { token: a.key })).status).toBe(401);
    expect(
      (await call(s, 'POST', `/api/v1/agents/${a.id}/heartbeat`, { token: rotated.body.key })).status,
    ).toBe(200);
    // Another organization sees neither the monitor nor the logs.
    expect((await call(s, 'GET', `/api/v1/agents/${a.id}/monitor`, { token: other.token })).status).toBe(404);
    expect((await call(s, 'GET', `/api/v1/agents/${a.id}/logs`, { token: other.token })).status).toBe(404);
  });

  it('row-level security: another organization sees no monitor and no log rows', async () => {
    const { id, key } = await newExternal(owner.token, 'RLS agent');
    await call(s, 'POST', `/api/v1/agents/${id}/logs`, { token: key, body: { status: 'warning' } });
    const mine = await s.database.db.withTenant(owner.organizationId, async (tx) => ({
      logs: await tx.select().from(agentLogs).where(sql`agent_id = ${id}`),
      monitors: await tx.select().from(externalAgentMonitors).where(sql`agent_id = ${id}`),
    }));
    expect(mine.logs).toHaveLength(1);
    expect(mine.monitors).toHaveLength(1);
    const theirs = await s.database.db.withTenant(other.organizationId, async (tx) => ({
      logs: await tx.select().from(agentLogs),
      monitors: await tx.select().from(externalAgentMonitors).where(sql`agent_id = ${id}`),
    }));
    expect(theirs.logs).toHaveLength(0);
    expect(theirs.monitors).toHaveLength(0);
    await expect(
      s.database.db.withTenant(other.organizationId, (tx) =>
        tx.insert(agentLogs).values({ organizationId: owner.organizationId, agentId: id, status: 'error' }),
      ),
    ).rejects.toThrow();
  });

  it('the sweep job marks agents that missed their window offline, once across concurrent sweeps', async () => {
    const late = await newExternal(owner.token, 'Late', { expectedIntervalSeconds: 10, graceSeconds: 5 });
    const fresh = await newExternal(owner.token, 'Fresh', { expectedIntervalSeconds: 10, graceSeconds: 5 });
    const silent = await newExternal(owner.token, 'Never heard', {
      expectedIntervalSeconds: 10,
      graceSeconds: 5,
    });
    await call(s, 'POST', `/api/v1/agents/${late.id}/heartbeat`, { token: late.key });
    await call(s, 'POST', `/api/v1/agents/${fresh.id}/heartbeat`, { token: fresh.key });
    await age(late.id, 16);
    await age(silent.id, 16);
    // Within interval + grace: still online.
    await age(fresh.id, 14);

    // Two "processes" sweep at once: each agent goes offline in exactly one of them.
    const [one, two] = await Promise.all([
      s.database.db.system((tx) => sweepOffline(tx)),
      s.database.db.system((tx) => sweepOffline(tx)),
    ]);
    const changed = [...one, ...two]
      .map((c) => c.agentId)
      .filter((x) => [late.id, fresh.id, silent.id].includes(x));
    expect(changed.sort()).toEqual([late.id, silent.id].sort());
    const state = async (id: string) =>
      (await call(s, 'GET', `/api/v1/agents/${id}/monitor`, { token: owner.token })).body.state;
    expect(await state(late.id)).toBe('offline');
    expect(await state(silent.id)).toBe('offline');
    expect(await state(fresh.id)).toBe('online');

    // The scheduled job does the same and is idempotent; a heartbeat brings the agent back online.
    await age(fresh.id, 5);
    await runJobNow(externalAgentsSweepJob, s.app.jobDeps);
    await runJobNow(externalAgentsSweepJob, s.app.jobDeps);
    expect(await state(fresh.id)).toBe('offline');
    await call(s, 'POST', `/api/v1/agents/${late.id}/heartbeat`, { token: late.key });
    expect(await state(late.id)).toBe('online');
  });
});
