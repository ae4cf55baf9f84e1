import { queryRows } from '@aiops/db';
import { testBackend } from '@aiops/testing';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runJobNow } from '../../jobs/scheduler.ts';
import { type MailCatcher, startMailCatcher } from '../../test-mail.ts';
import { call, type SignedUp, signUp, startTestServer, type TestServer } from '../../test-support.ts';
import { dispatchOutbox } from '../events/outbox.ts';
import { alertsOfRule, drain, newAgent, newRule } from './alerts-test-support.ts';
import { alertsOnOutbox } from './evaluate.ts';
import { alertsSweepJob } from './jobs.ts';

/**
 * Agent-scoped alert rules on internal agents (kind llm or code): fed by the finished attempts of the
 * workflow steps that ran the agent, as the outbox dispatcher sees their `agent_task_*` events.
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
async function workflow(name: string, agentId: string): Promise<string> {
  const r = await call(s, 'POST', '/api/v1/workflows', {
    token: owner.token,
    body: { status: 'active', definition: { name, nodes: [{ id: 'step', type: 'agent', agentId }] } },
  });
  expect(r.status).toBe(201);
  return r.body.id;
}
async function run(wf: string, input: Record<string, unknown> = { text: 'hello' }) {
  const r = await call(s, 'POST', `/api/v1/workflows/${wf}/runs`, {
    token: owner.token,
    body: { input, wait: 30 },
  });
  expect(['completed', 'failed']).toContain(r.body.status);
  return { id: r.body.id as string, status: r.body.status as string };
}
const rule = (body: Record<string, unknown>) => newRule(s, owner.token, body);
/** Two worker processes dispatch the outbox at once (each evaluates the alert rules of what it dispatches). */
const dispatch = () =>
  Promise.all([
    dispatchOutbox(s.database.db, 500, alertsOnOutbox(s.app.log)),
    dispatchOutbox(s.database.db, 500, alertsOnOutbox(s.app.log)),
  ]);
const alertsOf = (ruleId: string) => alertsOfRule(s, owner.token, ruleId);
const attempts = (agentId: string) =>
  s.database.db.system((tx) =>
    queryRows<{ status: string; cost: number; duration_ms: number }>(
      tx,
      sql`SELECT status, estimated_cost::float8 AS cost, duration_ms FROM agent_executions
          WHERE agent_id = ${agentId}::uuid ORDER BY completed_at`,
    ),
  );

describe(`agent-scoped alerts on internal agents on ${testBackend()}`, () => {
  it("an llm agent's failed steps in two workflows fire one alert (two dispatchers) and a successful step resolves it; mailed; previewed", async () => {
    const summarizer = await agent({ name: 'Summarizer', simulate: { failTimes: 1, failWith: 'fatal' } });
    const daily = await workflow('daily digest', summarizer);
    const weekly = await workflow('weekly digest', summarizer);
    const id = await rule({
      name: 'summarizer failing',
      subjectType: 'agent',
      agentId: summarizer,
      condition: { kind: 'consecutive_failures', count: 3 },
      channels: { email: ['oncall@example.com'] },
    });
    // A rule on every agent watches it too (each agent is its own subject).
    const every = await rule({
      name: 'any agent failing',
      subjectType: 'agent',
      condition: { kind: 'consecutive_failures', count: 3 },
    });
    // A workflow rule on the same steps stays quiet: only its own runs count (2 of 3).
    const wfRule = await rule({
      name: 'daily failing',
      subjectType: 'workflow',
      workflowId: daily,
      condition: { kind: 'consecutive_failures', count: 3 },
    });
    expect((await run(daily)).status).toBe('failed');
    expect((await run(daily)).status).toBe('failed');
    await dispatch();
    expect(await alertsOf(id)).toHaveLength(0);
    expect((await run(weekly)).status).toBe('failed');
    // Nothing is measured by the engine itself: the alert opens when the outbox is dispatched.
    expect(await alertsOf(id)).toHaveLength(0);
    await dispatch();
    await dispatch();
    const open = await alertsOf(id);
    expect(open.map((a) => [a.status, a.subjectType, a.subjectId, a.agentId, a.subjectName])).toEqual([
      ['open', 'agent', summarizer, summarizer, 'Summarizer'],
    ]);
    expect(open[0]!.details.reason).toBe('3 failed results in a row');
    expect(await alertsOf(wfRule)).toHaveLength(0);
    expect((await alertsOf(every)).map((a) => [a.status, a.subjectId])).toEqual([['open', summarizer]]);
    await Promise.all([drain(s), drain(s)]);
    await mail.waitFor('oncall@example.com', /Alert "summarizer failing": Summarizer/);
    expect(mail.mails.filter((m) => m.text.includes('Alert "summarizer failing"'))).toHaveLength(1);

    // The agent is fixed (a new version without the simulated failure): its next step succeeds.
    const fixed = await call(s, 'PATCH', `/api/v1/agents/${summarizer}`, {
      token: owner.token,
      body: { simulate: null },
    });
    expect(fixed.status).toBe(200);
    expect((await run(weekly)).status).toBe('completed');
    await dispatch();
    const after = await alertsOf(id);
    expect(after.map((a) => [a.status, a.resolutionComment])).toEqual([['resolved', 'a result succeeded']]);
    expect((await alertsOf(every)).map((a) => a.status)).toEqual(['resolved']);
    await drain(s);
    await mail.waitFor(
      'oncall@example.com',
      /Resolved "summarizer failing": Summarizer - a result succeeded/,
    );

    // The 7-day preview replays the same step attempts: 3 failures then a success, so it fires once.
    const preview = await call(s, 'POST', '/api/v1/alerts/rules/preview', {
      token: owner.token,
      body: {
        subjectType: 'agent',
        agentId: summarizer,
        condition: { kind: 'consecutive_failures', count: 3 },
      },
    });
    expect(preview.status).toBe(200);
    const steps = await attempts(summarizer);
    expect(preview.body).toMatchObject({
      supported: true,
      fired: 1,
      results: steps.length,
      subjects: 1,
      truncated: false,
    });
    const four = await call(s, 'POST', '/api/v1/alerts/rules/preview', {
      token: owner.token,
      body: {
        subjectType: 'agent',
        agentId: summarizer,
        condition: { kind: 'consecutive_failures', count: 4 },
      },
    });
    expect(four.body.fired).toBe(0);
    const all = await call(s, 'POST', '/api/v1/alerts/rules/preview', {
      token: owner.token,
      body: { subjectType: 'agent', condition: { kind: 'consecutive_failures', count: 3 } },
    });
    expect(all.body).toMatchObject({ fired: 1, results: steps.length, subjects: 1 });
  });

  it("a code agent's error rate, and an llm agent's p95 latency and cost per hour, fire from their steps and clear", async () => {
    const checker = await agent({
      name: 'Checker',
      kind: 'code',
      code: {
        language: 'javascript',
        code: 'if (input.bad) throw new Error("refused: " + input.text); return { ok: input.text };',
      },
    });
    const checks = await workflow('checks', checker);
    const rate = await rule({
      name: 'checker errors',
      subjectType: 'agent',
      agentId: checker,
      condition: { kind: 'error_rate', threshold: 40, windowMinutes: 60, minSamples: 3 },
    });
    expect((await run(checks)).status).toBe('completed');
    expect((await run(checks, { text: 'x', bad: true })).status).toBe('failed');
    await dispatch();
    expect(await alertsOf(rate)).toHaveLength(0); // fewer than 3 results: neither fires nor clears
    expect((await run(checks, { text: 'y', bad: true })).status).toBe('failed');
    await dispatch();
    const steps = await attempts(checker);
    const failed = steps.filter((x) => x.status === 'failed').length;
    const shown = ((failed / steps.length) * 100).toFixed(1);
    const open = await alertsOf(rate);
    expect(open.map((a) => a.status)).toEqual(['open']);
    expect(open[0]!.details.reason).toBe(
      `${shown}% of ${steps.length} results failed in the last 60 min (above 40%)`,
    );
    // Successful steps bring the rate under 40%.
    while ((await alertsOf(rate))[0]!.status === 'open') {
      expect((await run(checks)).status).toBe('completed');
      await dispatch();
      expect((await attempts(checker)).length).toBeLessThan(20);
    }
    const now = await attempts(checker);
    const back = ((now.filter((x) => x.status === 'failed').length / now.length) * 100).toFixed(1);
    expect(Number(back)).toBeLessThanOrEqual(40);
    expect((await alertsOf(rate)).map((a) => [a.status, a.resolutionComment])).toEqual([
      ['resolved', `error rate back to ${back}%`],
    ]);

    // p95 latency: an llm agent that answers in 300 ms, over a 200 ms threshold, from 2 steps.
    const slow = await agent({ name: 'Slow writer', simulate: { latencyMs: 300 } });
    const writes = await workflow('writes', slow);
    const p95 = await rule({
      name: 'writer slow',
      subjectType: 'agent',
      agentId: slow,
      condition: { kind: 'p95_latency', threshold: 200, windowMinutes: 60, minSamples: 2 },
    });
    // Cost per hour of the agent's steps: priced calls, above 1.5 times one step's cost.
    const priced = await call(s, 'POST', '/api/v1/prices', {
      token: owner.token,
      body: { model: 'simulator:*', effectiveFrom: '2024-01-01', input: '1000', output: '2000' },
    });
    expect(priced.status).toBe(201);
    expect((await run(writes)).status).toBe('completed');
    await dispatch();
    expect(await alertsOf(p95)).toHaveLength(0);
    const [first] = await attempts(slow);
    expect(first!.cost).toBeGreaterThan(0);
    const cost = await rule({
      name: 'writer spend',
      subjectType: 'agent',
      agentId: slow,
      condition: { kind: 'cost', threshold: first!.cost * 1.5, windowMinutes: 60 },
    });
    expect((await run(writes)).status).toBe('completed');
    await dispatch();
    const durations = (await attempts(slow)).map((x) => x.duration_ms);
    expect(Math.min(...durations)).toBeGreaterThanOrEqual(300);
    const slowAlert = await alertsOf(p95);
    expect(slowAlert.map((a) => a.status)).toEqual(['open']);
    expect(slowAlert[0]!.details.reason).toMatch(
      /^p95 latency \d+ ms over 2 results in the last 60 min \(above 200 ms\)$/,
    );
    const spend = await alertsOf(cost);
    expect(spend.map((a) => [a.status, a.subjectName])).toEqual([['open', 'Slow writer']]);
    const total = (await attempts(slow)).reduce((n, x) => n + x.cost, 0);
    expect(spend[0]!.details.reason).toBe(
      `cost ${total.toFixed(4)} in the last 60 min (above ${first!.cost * 1.5})`,
    );
    // Two hours later the window is empty: the scheduled sweep clears both window alerts.
    await s.database.db.system((tx) =>
      tx.execute(
        sql`UPDATE agent_executions SET completed_at = completed_at - interval '2 hours' WHERE agent_id = ${slow}::uuid`,
      ),
    );
    await Promise.all([runJobNow(alertsSweepJob, s.app.jobDeps), runJobNow(alertsSweepJob, s.app.jobDeps)]);
    expect((await alertsOf(p95)).map((a) => [a.status, a.resolutionComment])).toEqual([
      ['resolved', 'no longer seen: 0 results (fewer than 2)'],
    ]);
    const cleared = await alertsOf(cost);
    expect(cleared.map((a) => a.status)).toEqual(['resolved']);
    expect(cleared[0]!.resolutionComment).toBe(
      `cost 0.0000 in the last 60 min, back under ${first!.cost * 1.5}`,
    );

    // The preview replays the same steps (their times moved two hours back, still inside 7 days).
    const preview = await call(s, 'POST', '/api/v1/alerts/rules/preview', {
      token: owner.token,
      body: {
        subjectType: 'agent',
        agentId: slow,
        condition: { kind: 'p95_latency', threshold: 200, windowMinutes: 60, minSamples: 2 },
      },
    });
    expect(preview.body).toMatchObject({ supported: true, fired: 1, results: 2, subjects: 1 });
  });

  it("eval_score on an agent reads the scores of its step attempts (a run-level score is the workflow's); previewed", async () => {
    const answerer = await agent({ name: 'Answerer' });
    const wf = await workflow('answers', answerer);
    const condition = {
      kind: 'eval_score',
      threshold: 60,
      evaluator: null,
      windowMinutes: 60,
      minSamples: 2,
    };
    const id = await rule({
      name: 'answers got worse',
      subjectType: 'agent',
      agentId: answerer,
      condition,
      channels: { email: ['quality@example.com'] },
    });
    const r = await run(wf);
    expect(r.status).toBe('completed');
    const score = async (value: number, onStep: boolean) =>
      expect(
        (
          await call(s, 'POST', `/api/v1/runs/${r.id}/scores`, {
            token: owner.token,
            body: { score: value, name: 'helpfulness', ...(onStep ? { nodeId: 'step' } : {}) },
          })
        ).status,
      ).toBe(201);
    await score(10, true); // one step score: fewer than 2
    await score(0, false); // a score of the whole run: not the agent's
    expect(await alertsOf(id)).toHaveLength(0);
    await score(30, true);
    const open = await alertsOf(id);
    expect(open.map((a) => [a.status, a.subjectType, a.subjectName])).toEqual([
      ['open', 'agent', 'Answerer'],
    ]);
    expect(open[0]!.details.reason).toBe('mean score 20 over 2 scores in the last 60 min (below 60)');
    await drain(s);
    await mail.waitFor('quality@example.com', /Alert "answers got worse": Answerer/);
    await score(100, true);
    await score(100, true); // mean 60: clears
    expect((await alertsOf(id)).map((a) => [a.status, a.resolutionComment])).toEqual([
      ['resolved', 'mean score back to 60'],
    ]);
    const preview = await call(s, 'POST', '/api/v1/alerts/rules/preview', {
      token: owner.token,
      body: { subjectType: 'agent', agentId: answerer, condition },
    });
    expect(preview.body).toMatchObject({ supported: true, fired: 1, results: 4, subjects: 1 });
  });

  it('refuses a heartbeat rule on an internal agent; accepts cost and eval_score on agents', async () => {
    const internal = await agent({ name: 'Internal only' });
    const refused = await call(s, 'POST', '/api/v1/alerts/rules', {
      token: owner.token,
      body: { name: 'x', subjectType: 'agent', agentId: internal, condition: { kind: 'agent_offline' } },
    });
    expect(refused.status).toBe(400);
    expect(refused.body.error.message).toBe(
      'body.condition.kind: agent_offline (heartbeat missing) applies to external agents only: this agent is a llm agent',
    );
    const budget = await call(s, 'POST', '/api/v1/alerts/rules', {
      token: owner.token,
      body: { name: 'x', subjectType: 'agent', condition: { kind: 'budget', threshold: 80 } },
    });
    expect(budget.status).toBe(400);
    for (const condition of [
      { kind: 'cost', threshold: 5, windowMinutes: 1440 },
      { kind: 'eval_score', threshold: 50 },
    ])
      expect(
        (
          await call(s, 'POST', '/api/v1/alerts/rules', {
            token: owner.token,
            body: { name: `every agent ${condition.kind}`, subjectType: 'agent', condition },
          })
        ).status,
      ).toBe(201);
  });
});
