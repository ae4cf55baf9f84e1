import { queryRows } from '@aiops/db';
import { testBackend } from '@aiops/testing';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runJobNow } from '../../jobs/scheduler.ts';
import { type MailCatcher, startMailCatcher } from '../../test-mail.ts';
import { call, type SignedUp, signUp, startTestServer, type TestServer } from '../../test-support.ts';
import { alertsOfRule, drain, newAgent, newRule } from './alerts-test-support.ts';
import { alertsSweepJob } from './jobs.ts';

/**
 * Agent-scoped alert rules on calls of internal agents outside workflows: a participant's answers in a
 * conversation and `POST /agents/:id/try`, evaluated in the transaction that records each call.
 */
let s: TestServer;
let mail: MailCatcher;
let owner: SignedUp;

beforeAll(async () => {
  mail = await startMailCatcher();
  s = await startTestServer({
    worker: true,
    settings: { smtpUrl: mail.url, publicUrl: 'http://studio.test' },
  });
  owner = await signUp(s);
});

afterAll(async () => {
  await s?.close();
  await mail?.close();
});

const agent = (body: Record<string, unknown>) => newAgent(s, owner.token, body);
const rule = (body: Record<string, unknown>) => newRule(s, owner.token, body);
async function conversation(participants: Record<string, unknown>[]): Promise<string> {
  const r = await call(s, 'POST', '/api/v1/conversations', {
    token: owner.token,
    body: { mode: 'multi', participants },
  });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body.id;
}
async function say(conversationId: string, content: string) {
  const r = await call(s, 'POST', `/api/v1/conversations/${conversationId}/messages`, {
    token: owner.token,
    body: { content },
  });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body.answers as { senderId: string; status: string; cost: number; latencyMs: number }[];
}
const tryIt = (agentId: string, text: string) =>
  call(s, 'POST', `/api/v1/agents/${agentId}/try`, { token: owner.token, body: { input: { text } } });
const alertsOf = (ruleId: string) => alertsOfRule(s, owner.token, ruleId);
const calls = (agentId: string) =>
  s.database.db.system((tx) =>
    queryRows<{
      source: string;
      status: string;
      error_code: string | null;
      cost: number;
      duration_ms: number;
    }>(
      tx,
      sql`SELECT source, status, error_code, cost::float8 AS cost, duration_ms FROM agent_calls
          WHERE agent_id = ${agentId}::uuid ORDER BY created_at, id`,
    ),
  );
const preview = async (agentId: string, condition: Record<string, unknown>) => {
  const r = await call(s, 'POST', '/api/v1/alerts/rules/preview', {
    token: owner.token,
    body: { subjectType: 'agent', agentId, condition },
  });
  expect(r.status).toBe(200);
  return r.body;
};

describe(`agent-scoped alerts on calls outside workflows on ${testBackend()}`, () => {
  it("an agent's failed conversation answers and try fire at once (no outbox) and a successful try resolves; mailed; previewed", async () => {
    const desk = await agent({ name: 'Helpdesk', simulate: { failTimes: 1, failWith: 'fatal' } });
    const id = await rule({
      name: 'helpdesk failing',
      subjectType: 'agent',
      agentId: desk,
      condition: { kind: 'consecutive_failures', count: 3 },
      channels: { email: ['oncall@example.com'] },
    });
    // The agent beside a plain model: only the agent's answers are its results.
    const conv = await conversation([
      { id: 'desk', name: 'Desk', agentId: desk },
      { id: 'plain', name: 'Plain', model: 'simulator:echo' },
    ]);
    for (const text of ['Where is my order?', 'Hello?']) {
      const answers = await say(conv, text);
      expect(answers.map((a) => `${a.senderId}:${a.status}`).sort()).toEqual([
        'desk:failed',
        'plain:completed',
      ]);
    }
    expect(await alertsOf(id)).toHaveLength(0);
    const failed = await tryIt(desk, 'ping');
    expect(failed.status).toBeGreaterThanOrEqual(400);
    const recorded = await calls(desk);
    expect(recorded.map((c) => [c.source, c.status, c.error_code])).toEqual([
      ['conversation', 'failed', expect.any(String)],
      ['conversation', 'failed', expect.any(String)],
      ['try', 'failed', failed.body.error.code],
    ]);
    // Evaluated in the transaction that recorded the try: open as soon as it answered.
    const open = await alertsOf(id);
    expect(open.map((a) => [a.status, a.subjectId, a.subjectName, a.details.reason])).toEqual([
      ['open', desk, 'Helpdesk', '3 failed results in a row'],
    ]);
    await drain(s);
    await mail.waitFor('oncall@example.com', /Alert "helpdesk failing": Helpdesk/);

    // Fixed (no simulated failure): the next try succeeds and resolves the alert.
    const fixed = await call(s, 'PATCH', `/api/v1/agents/${desk}`, {
      token: owner.token,
      body: { simulate: null },
    });
    expect(fixed.status).toBe(200);
    const ok = await tryIt(desk, 'ping');
    expect(ok.status).toBe(200);
    expect((await alertsOf(id)).map((a) => [a.status, a.resolutionComment])).toEqual([
      ['resolved', 'a result succeeded'],
    ]);
    await drain(s);
    await mail.waitFor('oncall@example.com', /Resolved "helpdesk failing": Helpdesk - a result succeeded/);
    const all = await calls(desk);
    expect(all.map((c) => [c.source, c.status])).toEqual([
      ['conversation', 'failed'],
      ['conversation', 'failed'],
      ['try', 'failed'],
      ['try', 'completed'],
    ]);
    expect(all[3]!.duration_ms).toBe(ok.body.durationMs);

    // The preview replays the same calls: three failures then a success, so it fires once.
    expect(await preview(desk, { kind: 'consecutive_failures', count: 3 })).toMatchObject({
      supported: true,
      fired: 1,
      results: all.length,
      subjects: 1,
    });
    expect((await preview(desk, { kind: 'consecutive_failures', count: 4 })).fired).toBe(0);

    // Deleting the conversation deletes its answers' results; the tries stay.
    expect((await call(s, 'DELETE', `/api/v1/conversations/${conv}`, { token: owner.token })).status).toBe(
      204,
    );
    expect((await calls(desk)).map((c) => c.source)).toEqual(['try', 'try']);
  });

  it('p95 latency and cost per hour of tries and conversation answers fire; the sweep clears them when the window empties', async () => {
    const slow = await agent({ name: 'Slow writer', simulate: { latencyMs: 300 } });
    const priced = await call(s, 'POST', '/api/v1/prices', {
      token: owner.token,
      body: { model: 'simulator:*', effectiveFrom: '2024-01-01', input: '1000', output: '2000' },
    });
    expect(priced.status).toBe(201);
    const latency = { kind: 'p95_latency', threshold: 200, windowMinutes: 60, minSamples: 2 };
    const p95 = await rule({ name: 'writer slow', subjectType: 'agent', agentId: slow, condition: latency });
    expect((await tryIt(slow, 'draft the release notes')).status).toBe(200);
    expect(await alertsOf(p95)).toHaveLength(0); // one result: fewer than 2
    const [first] = await calls(slow);
    expect(first!.cost).toBeGreaterThan(0);
    const spendRule = { kind: 'cost', threshold: first!.cost * 1.5, windowMinutes: 60 };
    const cost = await rule({
      name: 'writer spend',
      subjectType: 'agent',
      agentId: slow,
      condition: spendRule,
    });

    const conv = await conversation([{ id: 'w', name: 'Writer', agentId: slow }]);
    const [answer] = await say(conv, 'draft the release notes again');
    expect(answer!.status).toBe('completed');
    const now = await calls(slow);
    expect(now.map((c) => c.source)).toEqual(['try', 'conversation']);
    expect(now[1]!.duration_ms).toBe(answer!.latencyMs);
    expect(Math.min(...now.map((c) => c.duration_ms))).toBeGreaterThanOrEqual(300);
    const slowAlert = await alertsOf(p95);
    expect(slowAlert.map((a) => a.status)).toEqual(['open']);
    expect(slowAlert[0]!.details.reason).toMatch(
      /^p95 latency \d+ ms over 2 results in the last 60 min \(above 200 ms\)$/,
    );
    const total = now.reduce((n, c) => n + c.cost, 0);
    const spend = await alertsOf(cost);
    expect(spend.map((a) => [a.status, a.details.reason])).toEqual([
      ['open', `cost ${total.toFixed(4)} in the last 60 min (above ${first!.cost * 1.5})`],
    ]);

    // Two hours later the window is empty: the scheduled sweep (two processes) clears both.
    await s.database.db.system((tx) =>
      tx.execute(
        sql`UPDATE agent_calls SET created_at = created_at - interval '2 hours' WHERE agent_id = ${slow}::uuid`,
      ),
    );
    await Promise.all([runJobNow(alertsSweepJob, s.app.jobDeps), runJobNow(alertsSweepJob, s.app.jobDeps)]);
    expect((await alertsOf(p95)).map((a) => [a.status, a.resolutionComment])).toEqual([
      ['resolved', 'no longer seen: 0 results (fewer than 2)'],
    ]);
    expect((await alertsOf(cost)).map((a) => [a.status, a.resolutionComment])).toEqual([
      ['resolved', `cost 0.0000 in the last 60 min, back under ${first!.cost * 1.5}`],
    ]);
    // The preview replays both calls (two hours back, still inside 7 days).
    expect(await preview(slow, latency)).toMatchObject({
      supported: true,
      fired: 1,
      results: 2,
      subjects: 1,
    });
    expect(await preview(slow, spendRule)).toMatchObject({ fired: 1, results: 2 });
  });
});
