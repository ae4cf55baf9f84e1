import { queryRows } from '@aiops/db';
import { testBackend } from '@aiops/testing';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runJobNow } from '../../jobs/scheduler.ts';
import { type MailCatcher, startMailCatcher } from '../../test-mail.ts';
import { call, type SignedUp, signUp, startTestServer, type TestServer } from '../../test-support.ts';
import { dispatchOutbox } from '../events/outbox.ts';
import { allowPrivate, drain, type Receiver, startReceiver } from './alerts-test-support.ts';
import { alertsOnOutbox } from './evaluate.ts';
import { alertsSweepJob } from './jobs.ts';

let s: TestServer;
let mail: MailCatcher;
let owner: SignedUp;
let slack: Receiver;

beforeAll(async () => {
  mail = await startMailCatcher();
  s = await startTestServer({
    worker: true,
    settings: { smtpUrl: mail.url, publicUrl: 'http://studio.test' },
  });
  owner = await signUp(s);
  slack = await startReceiver('/services/T1/B1/x');
  await allowPrivate(s, owner.organizationId);
});

afterAll(async () => {
  slack?.close();
  await s?.close();
  await mail?.close();
});

const echo = (simulate?: Record<string, unknown>, name = 'nightly report') => ({
  name,
  nodes: [
    {
      id: 'x',
      type: 'agent',
      agent: { model: 'simulator:echo', prompt: 'report', ...(simulate ? { simulate } : {}) },
    },
  ],
  connections: [],
});
const failing = echo({ failTimes: 1, failWith: 'fatal' });

async function workflow(definition: unknown): Promise<string> {
  const r = await call(s, 'POST', '/api/v1/workflows', {
    token: owner.token,
    body: { status: 'active', definition },
  });
  expect(r.status).toBe(201);
  return r.body.id;
}
async function run(wf: string): Promise<string> {
  const r = await call(s, 'POST', `/api/v1/workflows/${wf}/runs`, { token: owner.token, body: { wait: 20 } });
  expect(['completed', 'failed']).toContain(r.body.status);
  return r.body.status;
}
/** Two worker processes dispatch the outbox at once (each evaluates the alert rules of what it dispatches). */
const dispatch = () =>
  Promise.all([
    dispatchOutbox(s.database.db, 500, alertsOnOutbox(s.app.log)),
    dispatchOutbox(s.database.db, 500, alertsOnOutbox(s.app.log)),
  ]);
const alertsOf = async (q: string) =>
  (await call(s, 'GET', `/api/v1/alerts?${q}`, { token: owner.token })).body.data as {
    id: string;
    status: string;
    ruleId: string;
    subjectType: string;
    subjectName: string;
    resolutionComment: string | null;
    details: { reason: string };
  }[];

describe(`alerts on workflows on ${testBackend()}`, () => {
  it('done when: a rule on 3 consecutive failures of a workflow fires once (two dispatchers) and resolves, mailed and in Slack', async () => {
    const wf = await workflow(failing);
    const rule = await call(s, 'POST', '/api/v1/alerts/rules', {
      token: owner.token,
      body: {
        name: 'report keeps failing',
        subjectType: 'workflow',
        workflowId: wf,
        condition: { kind: 'consecutive_failures', count: 3 },
        channels: { email: ['oncall@example.com'], slack: slack.url },
      },
    });
    expect(rule.status).toBe(201);
    expect(await run(wf)).toBe('failed');
    expect(await run(wf)).toBe('failed');
    await dispatch();
    expect(await alertsOf(`workflowId=${wf}`)).toHaveLength(0);
    expect(await run(wf)).toBe('failed');
    expect(await run(wf)).toBe('failed');
    await dispatch();
    await dispatch();
    const open = await alertsOf(`workflowId=${wf}`);
    expect(open).toHaveLength(1);
    expect(open[0]).toMatchObject({
      status: 'open',
      ruleId: rule.body.id,
      subjectType: 'workflow',
      subjectName: 'nightly report',
    });
    expect(open[0]!.details.reason).toBe('3 failed results in a row');
    await Promise.all([drain(s), drain(s)]);
    await mail.waitFor('oncall@example.com', /Alert "report keeps failing": nightly report/);
    expect(mail.mails.filter((m) => m.text.includes('Alert "report keeps failing"'))).toHaveLength(1);
    expect(mail.mails.find((m) => m.text.includes('Alert "report keeps failing"'))!.text).toContain(
      `http://studio.test/alerts?alert=${open[0]!.id}`,
    );
    const blocks = slack.received.map((r) => JSON.parse(r.body));
    expect(blocks.filter((b) => b.text.includes('Alert "report keeps failing"'))).toHaveLength(1);
    expect(JSON.stringify(blocks[0].blocks)).toContain('*Workflow*\\nnightly report');

    // The user fixes the workflow: the next run succeeds and the alert resolves (and says so).
    const fixed = await call(s, 'PATCH', `/api/v1/workflows/${wf}`, {
      token: owner.token,
      body: { definition: echo() },
    });
    expect(fixed.status).toBe(200);
    expect(await run(wf)).toBe('completed');
    await dispatch();
    const after = await alertsOf(`workflowId=${wf}`);
    expect(after.map((a) => [a.status, a.resolutionComment])).toEqual([['resolved', 'a run succeeded']]);
    await drain(s);
    await mail.waitFor(
      'oncall@example.com',
      /Resolved "report keeps failing": nightly report - a run succeeded/,
    );
    expect(slack.received.filter((r) => r.body.includes('Resolved \\"report keeps failing\\"'))).toHaveLength(
      1,
    );

    // Preview: over the last 7 days this rule would have fired once; at 2 failures in a row, once too.
    const preview = await call(s, 'POST', '/api/v1/alerts/rules/preview', {
      token: owner.token,
      body: {
        subjectType: 'workflow',
        workflowId: wf,
        condition: { kind: 'consecutive_failures', count: 3 },
      },
    });
    expect(preview.status).toBe(200);
    expect(preview.body).toMatchObject({
      supported: true,
      fired: 1,
      results: 5,
      subjects: 1,
      truncated: false,
    });
    expect(preview.body.byDay).toHaveLength(7);
    expect(preview.body.byDay.reduce((n: number, d: { fired: number }) => n + d.fired, 0)).toBe(1);
    const five = await call(s, 'POST', '/api/v1/alerts/rules/preview', {
      token: owner.token,
      body: {
        subjectType: 'workflow',
        workflowId: wf,
        condition: { kind: 'consecutive_failures', count: 5 },
      },
    });
    expect(five.body.fired).toBe(0);
    const offline = await call(s, 'POST', '/api/v1/alerts/rules/preview', {
      token: owner.token,
      body: { condition: { kind: 'agent_offline' } },
    });
    expect(offline.body).toMatchObject({ supported: false, fired: 0 });
  });

  it('organization error rate and cost per hour fire across workflows and clear', async () => {
    const priced = await call(s, 'POST', '/api/v1/prices', {
      token: owner.token,
      body: { model: 'simulator:*', effectiveFrom: '2024-01-01', input: '1000', output: '2000' },
    });
    expect(priced.status).toBe(201);
    const rate = await call(s, 'POST', '/api/v1/alerts/rules', {
      token: owner.token,
      body: {
        name: 'org errors',
        subjectType: 'organization',
        severity: 'critical',
        condition: { kind: 'error_rate', threshold: 50, windowMinutes: 60, minSamples: 3 },
      },
    });
    expect(rate.status).toBe(201);
    const ok = await workflow(echo(undefined, 'hourly sync'));
    const bad = await workflow(echo({ failTimes: 1, failWith: 'fatal' }, 'hourly import'));
    // Runs of the first test are older than this rule but inside its window: 4 failed, 1 completed.
    await run(ok);
    await dispatch();
    const opened = await alertsOf(`ruleId=${rate.body.id}`);
    expect(opened.map((a) => a.status)).toEqual(['open']);
    expect(opened[0]!.details.reason).toMatch(/^66\.7% of 6 results failed in the last 60 min \(above 50%\)/);
    expect(opened[0]!.subjectType).toBe('organization');
    await run(ok);
    await run(ok);
    await dispatch();
    expect((await alertsOf(`ruleId=${rate.body.id}`)).map((a) => a.status)).toEqual(['resolved']);

    // Cost: the summed estimated cost of the runs in the last hour above the threshold.
    const spent = await s.database.db.system((tx) =>
      queryRows<{ c: number }>(
        tx,
        sql`SELECT coalesce(sum(estimated_cost), 0)::float8 AS c FROM workflow_executions WHERE organization_id = ${owner.organizationId}`,
      ),
    );
    const before = Number(spent[0]!.c);
    expect(before).toBeGreaterThan(0);
    const cost = await call(s, 'POST', '/api/v1/alerts/rules', {
      token: owner.token,
      body: {
        name: 'spend per hour',
        subjectType: 'organization',
        condition: { kind: 'cost', threshold: before * 1.05, windowMinutes: 60 },
      },
    });
    // A failed run costs nothing (it failed before the model answered): no alert; a completed one does.
    expect(await run(bad)).toBe('failed');
    await dispatch();
    expect(await alertsOf(`ruleId=${cost.body.id}`)).toHaveLength(0);
    await run(ok);
    await dispatch();
    expect((await alertsOf(`ruleId=${cost.body.id}`)).map((a) => a.status)).toEqual(['open']);
    // An hour later nothing is spent in the window: the scheduled sweep resolves it.
    await s.database.db.system((tx) =>
      tx.execute(
        sql`UPDATE workflow_executions SET completed_at = completed_at - interval '2 hours' WHERE organization_id = ${owner.organizationId}`,
      ),
    );
    await runJobNow(alertsSweepJob, s.app.jobDeps);
    const cleared = await alertsOf(`ruleId=${cost.body.id}`);
    expect(cleared.map((a) => a.status)).toEqual(['resolved']);
    expect(cleared[0]!.resolutionComment).toMatch(/^cost 0\.0000 in the last 60 min, back under /);
  });

  it('evaluation score mean below X fires per workflow (one evaluator, minimum of scores), is acknowledged and resolves; previewed', async () => {
    const wf = await workflow(echo(undefined, 'scored answers'));
    const r = await call(s, 'POST', `/api/v1/workflows/${wf}/runs`, {
      token: owner.token,
      body: { wait: 20 },
    });
    expect(r.body.status).toBe('completed');
    const score = async (value: number, name: string) =>
      expect(
        (
          await call(s, 'POST', `/api/v1/runs/${r.body.id}/scores`, {
            token: owner.token,
            body: { score: value, name },
          })
        ).status,
      ).toBe(201);
    const condition = {
      kind: 'eval_score',
      threshold: 60,
      evaluator: 'helpfulness',
      windowMinutes: 60,
      minSamples: 2,
    };
    const rule = await call(s, 'POST', '/api/v1/alerts/rules', {
      token: owner.token,
      body: {
        name: 'answers got worse',
        subjectType: 'workflow',
        workflowId: wf,
        condition,
        channels: { email: ['quality@example.com'] },
      },
    });
    expect(rule.status).toBe(201);
    expect(rule.body.condition).toEqual(condition);
    await score(20, 'helpfulness'); // one score: fewer than 2, nothing yet
    await score(95, 'tone'); // another evaluator: not counted
    expect(await alertsOf(`ruleId=${rule.body.id}`)).toHaveLength(0);
    await score(30, 'helpfulness');
    const open = await alertsOf(`ruleId=${rule.body.id}`);
    expect(open.map((a) => [a.status, a.subjectType, a.subjectName])).toEqual([
      ['open', 'workflow', 'scored answers'],
    ]);
    expect(open[0]!.details.reason).toBe(
      'mean helpfulness score 25 over 2 scores in the last 60 min (below 60)',
    );
    await drain(s);
    await mail.waitFor('quality@example.com', /Alert "answers got worse": scored answers/);
    const ack = await call(s, 'POST', `/api/v1/alerts/${open[0]!.id}/acknowledge`, { token: owner.token });
    expect(ack.status).toBe(200);
    await score(100, 'helpfulness');
    expect((await alertsOf(`ruleId=${rule.body.id}`)).map((a) => a.status)).toEqual(['acknowledged']);
    await score(100, 'helpfulness'); // mean 62.5: clears
    const after = await alertsOf(`ruleId=${rule.body.id}`);
    expect(after.map((a) => [a.status, a.resolutionComment])).toEqual([
      ['resolved', 'mean helpfulness score back to 62.5'],
    ]);
    await drain(s);
    await mail.waitFor('quality@example.com', /Resolved "answers got worse": scored answers/);

    const preview = await call(s, 'POST', '/api/v1/alerts/rules/preview', {
      token: owner.token,
      body: { subjectType: 'workflow', workflowId: wf, condition },
    });
    expect(preview.body).toMatchObject({ supported: true, fired: 1, results: 4, subjects: 1 });
    const strict = await call(s, 'POST', '/api/v1/alerts/rules/preview', {
      token: owner.token,
      body: { subjectType: 'organization', condition: { ...condition, evaluator: null, threshold: 20 } },
    });
    expect(strict.body).toMatchObject({ supported: true, fired: 0, results: 5 });
  });

  it("budget at X% fires on the organization's monthly spend (sweep) and clears after a run when the budget is raised", async () => {
    const refused = await call(s, 'POST', '/api/v1/alerts/rules', {
      token: owner.token,
      body: { name: 'x', subjectType: 'workflow', condition: { kind: 'budget', threshold: 80 } },
    });
    expect(refused.status).toBe(400);
    const rule = await call(s, 'POST', '/api/v1/alerts/rules', {
      token: owner.token,
      body: {
        name: 'budget 80%',
        subjectType: 'organization',
        condition: { kind: 'budget', threshold: 80 },
        channels: { email: ['finance@example.com'] },
      },
    });
    expect(rule.status).toBe(201);
    const budget = (usd: number) =>
      call(s, 'PATCH', '/api/v1/organization', {
        token: owner.token,
        body: { settings: { monthlyBudgetUsd: usd } },
      });
    expect((await budget(10)).status).toBe(200);
    // Spend outside runs (gateway, chat) goes through aiops_add_org_cost; the sweep measures budget rules.
    await s.database.db.system((tx) =>
      tx.execute(
        sql`SELECT aiops_add_org_cost(${JSON.stringify([{ organization_id: owner.organizationId, cost: 8.5 }])}::jsonb)`,
      ),
    );
    await Promise.all([runJobNow(alertsSweepJob, s.app.jobDeps), runJobNow(alertsSweepJob, s.app.jobDeps)]);
    const open = await alertsOf(`ruleId=${rule.body.id}`);
    expect(open.map((a) => [a.status, a.subjectType])).toEqual([['open', 'organization']]);
    expect(open[0]!.details.reason).toMatch(
      /^\$8\.5\d of the \$10 monthly budget spent \(8\d\.\d%\), at or above 80%$/,
    );
    await drain(s);
    await mail.waitFor('finance@example.com', /Alert "budget 80%"/);
    const preview = await call(s, 'POST', '/api/v1/alerts/rules/preview', {
      token: owner.token,
      body: { subjectType: 'organization', condition: { kind: 'budget', threshold: 80 } },
    });
    expect(preview.body).toMatchObject({ supported: false, fired: 0 });
    expect(preview.body.note).toMatch(
      /cannot be replayed; now: \$8\.5\d of the \$10 monthly budget .*\(it would fire\)$/,
    );

    // The budget is raised; the next finished run measures the organization's budget rules again.
    expect((await budget(100)).status).toBe(200);
    await run(await workflow(echo(undefined, 'after the raise')));
    await dispatch();
    const after = await alertsOf(`ruleId=${rule.body.id}`);
    expect(after.map((a) => a.status)).toEqual(['resolved']);
    expect(after[0]!.resolutionComment).toMatch(
      /^\$8\.5\d of the \$100 monthly budget spent \(8\.\d%\), under 80%$/,
    );
    await drain(s);
    await mail.waitFor('finance@example.com', /Resolved "budget 80%"/);
  });
});
