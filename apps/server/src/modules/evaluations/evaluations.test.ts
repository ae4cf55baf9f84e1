import { queryRows } from '@aiops/db';
import { createEmbeddingPort } from '@aiops/providers';
import { type FakeProviderServer, startFakeOpenAI, testBackend } from '@aiops/testing';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type SignedUp, signUp, startTestServer, type TestServer } from '../../test-support.ts';
import { DEFAULT_ONLINE_OPTIONS, enqueueFinished, onlinePass } from './online.ts';
import { makeEvaluationEmbedder } from './similarity.ts';

const KEY = 'sk-fake-judge';
let s: TestServer;
let fake: FakeProviderServer;
let owner: SignedUp;
let agentId: string;
let workflowId: string;

const api = (method: string, path: string, body?: unknown, token = owner.token) =>
  call(s, method, `/api/v1${path}`, { token, ...(body === undefined ? {} : { body }) });

const runWorkflow = async (text: string) => {
  const r = await api('POST', `/workflows/${workflowId}/runs`, { input: { text }, wait: 20 });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  expect(r.body.status).toBe('completed');
  return r.body.id as string;
};

const evaluator = async (body: Record<string, unknown>) => {
  const r = await api('POST', '/evaluators', body);
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body.id as string;
};

const pass = () =>
  onlinePass(
    s.database.db,
    {
      model: s.app.engine.model,
      embed: makeEvaluationEmbedder(
        s.database.db,
        createEmbeddingPort({ resolveIntegration: () => undefined }),
      ),
    },
    { batch: 100 },
  );

beforeAll(async () => {
  fake = await startFakeOpenAI('openai', { apiKey: KEY });
  s = await startTestServer({ worker: true });
  owner = await signUp(s);
  const agent = await api('POST', '/agents', {
    name: 'Support',
    model: 'simulator:echo',
    promptTemplate: 'Answer: {{input.text}}',
  });
  expect(agent.status).toBe(201);
  agentId = agent.body.id;
  const wf = await api('POST', '/workflows', {
    status: 'active',
    definition: {
      name: 'support',
      input: { type: 'object', properties: { text: { type: 'string' } } },
      nodes: [{ id: 'answer', type: 'agent', agentId }],
    },
  });
  expect(wf.status, JSON.stringify(wf.body)).toBe(201);
  workflowId = wf.body.id;
}, 60_000);
afterAll(async () => {
  await s?.close();
  await fake?.close();
});

describe(`evaluations on ${testBackend()}`, () => {
  it('creates rule evaluators, refuses bad ones with 4xx, versions every change', async () => {
    const id = await evaluator({
      name: 'mentions refund',
      kind: 'rule',
      config: { rule: 'contains', value: 'refund' },
    });
    const got = await api('GET', `/evaluators/${id}`);
    expect(got.body).toMatchObject({ kind: 'rule', threshold: 50, version: 1 });
    const lookaround = await api('POST', '/evaluators', {
      name: 'bad regex',
      kind: 'rule',
      config: { rule: 'regex', pattern: '(?<=a)b' },
    });
    expect(lookaround.status).toBe(400);
    expect(lookaround.body.error.message).toMatch(/linear-time engine/);
    const unknownRule = await api('POST', '/evaluators', {
      name: 'x',
      kind: 'rule',
      config: { rule: 'vibes' },
    });
    expect(unknownRule.status).toBe(400);
    const dup = await api('POST', '/evaluators', {
      name: 'mentions refund',
      kind: 'rule',
      config: { rule: 'contains', value: 'x' },
    });
    expect(dup.status).toBe(409);
    const judgeWithout = await api('POST', '/evaluators', {
      name: 'j',
      kind: 'judge',
      config: { model: 'simulator:json' },
    });
    expect(judgeWithout.status).toBe(400);

    const changed = await api('PATCH', `/evaluators/${id}`, {
      threshold: 100,
      config: { rule: 'contains', value: 'Refund', caseSensitive: true },
    });
    expect(changed.status, JSON.stringify(changed.body)).toBe(200);
    expect(changed.body.version).toBe(2);
    const badChange = await api('PATCH', `/evaluators/${id}`, {
      config: { rule: 'regex', pattern: '(a)\\1' },
    });
    expect(badChange.status).toBe(400);
    const versions = await api('GET', `/evaluators/${id}/versions`);
    expect(versions.body.data.map((v: { version: number }) => v.version)).toEqual([2, 1]);
    expect(versions.body.data[1].config).toMatchObject({ value: 'refund' });

    const ok = await api('POST', `/evaluators/${id}/test`, { output: 'Your Refund is approved' });
    expect(ok.body).toMatchObject({ score: 100, passed: true, costUsd: 0 });
    const no = await api('POST', `/evaluators/${id}/test`, { output: 'your refund is approved' });
    expect(no.body).toMatchObject({ score: 0, passed: false });

    const audits = await s.database.db.system((tx) =>
      queryRows<{ action: string }>(
        tx,
        sql`SELECT action FROM audit_logs WHERE entity_type = 'evaluator' AND entity_id = ${id} ORDER BY created_at`,
      ),
    );
    expect(audits.map((a) => a.action)).toEqual(['created', 'updated']);
  });

  it('an LLM judge on the simulator scores offline; a malformed answer is refused, not scored', async () => {
    const id = await evaluator({
      name: 'helpful (simulated)',
      kind: 'judge',
      config: {
        template: 'helpfulness',
        model: 'simulator:json',
        simulate: {
          when: [{ contains: ['useless'], output: { score: 10, explanation: 'does not help' } }],
          output: { score: 92, explanation: 'answers the question' },
        },
      },
    });
    const good = await api('POST', `/evaluators/${id}/test`, {
      input: 'where is my order?',
      output: 'It ships today.',
    });
    expect(good.body).toMatchObject({
      score: 92,
      passed: true,
      threshold: 70,
      explanation: 'answers the question',
    });
    const bad = await api('POST', `/evaluators/${id}/test`, { input: 'q', output: 'a useless answer' });
    expect(bad.body).toMatchObject({ score: 10, passed: false });

    const malformed = await evaluator({
      name: 'broken judge',
      kind: 'judge',
      config: {
        rubric: 'Rate {{output}}',
        model: 'simulator:json',
        simulate: { output: 'looks fine to me' },
      },
    });
    const r = await api('POST', `/evaluators/${malformed}/test`, { output: 'x' });
    expect(r.status).toBe(502);
    expect(r.body.error.code).toBe('judge_output_invalid');
  });

  it('an LLM judge through a real provider integration (OpenAI wire): score parsed, cost recorded, budget enforced', async () => {
    expect((await api('PATCH', '/organization', { settings: { allowPrivateNetworks: true } })).status).toBe(
      200,
    );
    const integration = await api('POST', '/integrations', {
      name: 'OpenAI judge',
      provider: 'openai',
      config: { baseUrl: fake.baseUrl },
      credentials: { apiKey: KEY },
    });
    expect(integration.status, JSON.stringify(integration.body)).toBe(201);
    const id = await evaluator({
      name: 'relevancy (gpt)',
      kind: 'judge',
      threshold: 80,
      config: { template: 'relevancy', model: 'openai:gpt-4o-mini', integrationId: integration.body.id },
    });
    const runId = await runWorkflow('my parcel is late');
    fake.reply({
      kind: 'text',
      text: '{"score": 75, "explanation": "mostly on topic"}',
      usage: { input: 1000, output: 20 },
    });
    const r = await api('POST', '/evaluations/run', { runId, evaluatorIds: [id] });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const [result] = r.body.data;
    expect(result).toMatchObject({
      score: 75,
      passed: false,
      threshold: 80,
      explanation: 'mostly on topic',
      source: 'on_demand',
      evaluatorVersion: 1,
    });
    expect(result.costUsd).toBeGreaterThan(0);
    const prompt = JSON.stringify(fake.exchanges.at(-1)!.request.body);
    expect(prompt).toContain('my parcel is late');

    fake.reply({ kind: 'text', text: 'no idea', usage: { input: 10, output: 2 } });
    const malformed = await api('POST', '/evaluations/run', { runId, evaluatorIds: [id] });
    expect(malformed.status).toBe(502);

    const tight = await api('PATCH', `/evaluators/${id}`, {
      config: {
        template: 'relevancy',
        model: 'openai:gpt-4o-mini',
        integrationId: integration.body.id,
        budgetUsd: 0.0000001,
      },
    });
    expect(tight.status).toBe(200);
    const calls = fake.exchanges.length;
    const refused = await api('POST', '/evaluations/run', { runId, evaluatorIds: [id] });
    expect(refused.status).toBe(402);
    expect(fake.exchanges.length).toBe(calls);
    const stored = await api('GET', `/runs/${runId}/evaluations`);
    expect(stored.body.data).toHaveLength(1);
  });

  it('online: attached evaluators score finished runs after they end, sampled, fed to the quality metric; failures never touch the run', async () => {
    const onRun = await evaluator({
      name: 'echoes the question',
      kind: 'rule',
      config: { rule: 'contains', value: 'Answer:' },
    });
    const onAgent = await evaluator({
      name: 'clarity (simulated)',
      kind: 'judge',
      config: {
        template: 'clarity',
        model: 'simulator:json',
        simulate: { output: { score: 64, explanation: 'a bit terse' } },
      },
    });
    const never = await evaluator({
      name: 'sampled out',
      kind: 'rule',
      config: { rule: 'tokens_max', maxTokens: 1 },
    });
    const failing = await evaluator({
      name: 'always broken',
      kind: 'judge',
      config: { rubric: '{{output}}', model: 'simulator:json', simulate: { output: 'not a score' } },
    });
    for (const [evaluatorId, target] of [
      [onRun, { workflowId }],
      [onAgent, { agentId }],
      [never, { workflowId, samplingRate: 0 }],
      [failing, { workflowId }],
    ] as const) {
      const a = await api('POST', `/evaluators/${evaluatorId}/attachments`, target);
      expect(a.status, JSON.stringify(a.body)).toBe(201);
    }
    const again = await api('POST', `/evaluators/${onRun}/attachments`, { workflowId });
    expect(again.status).toBe(409);
    expect((await api('POST', `/evaluators/${onRun}/attachments`, { workflowId, agentId })).status).toBe(400);

    const runId = await runWorkflow('is my refund done?');
    // nothing is scored on the run's path: results appear only after the loop's pass
    expect((await api('GET', `/runs/${runId}/evaluations`)).body.data).toHaveLength(0);
    const first = await pass();
    expect(first.done).toBe(2);
    const second = await pass();
    expect(second).toMatchObject({ enqueued: 0, done: 0 });

    const results = (await api('GET', `/runs/${runId}/evaluations`)).body.data as Record<string, unknown>[];
    expect(results.map((r) => r.evaluatorName).sort()).toEqual([
      'clarity (simulated)',
      'echoes the question',
    ]);
    const onAgentResult = results.find((r) => r.evaluatorName === 'clarity (simulated)')!;
    expect(onAgentResult).toMatchObject({ score: 64, passed: false, source: 'online', kind: 'judge' });
    expect(onAgentResult.agentExecutionId).toBeTruthy();
    expect(results.find((r) => r.evaluatorName === 'echoes the question')).toMatchObject({
      score: 100,
      passed: true,
      agentExecutionId: null,
    });

    const jobs = await s.database.db.system((tx) =>
      queryRows<{ evaluator_id: string; status: string; last_error: string | null }>(
        tx,
        sql`SELECT evaluator_id, status, last_error FROM evaluation_jobs WHERE workflow_execution_id = ${runId}`,
      ),
    );
    expect(jobs.find((j) => j.evaluator_id === never)?.status).toBe('skipped');
    const broken = jobs.find((j) => j.evaluator_id === failing)!;
    expect(broken.status).toBe('failed');
    expect(broken.last_error).toMatch(/did not answer with a score/);
    const run = await api('GET', `/runs/${runId}`);
    expect(run.body.status).toBe('completed');

    const quality = await s.database.db.system((tx) =>
      queryRows<{ quality: string }>(
        tx,
        sql`SELECT quality FROM agent_metrics WHERE workflow_execution_id = ${runId} AND quality IS NOT NULL`,
      ),
    );
    expect(quality.map((q) => Number(q.quality))).toEqual([64]);
  });

  it('deleting an evaluator skips its queued scorings; results stay', async () => {
    const id = await evaluator({
      name: 'short lived',
      kind: 'rule',
      config: { rule: 'latency_max', maxMs: 60_000 },
    });
    expect((await api('POST', `/evaluators/${id}/attachments`, { workflowId })).status).toBe(201);
    const runId = await runWorkflow('queued then dropped');
    expect(await enqueueFinished(s.database.db, DEFAULT_ONLINE_OPTIONS)).toBeGreaterThan(0);
    expect((await api('DELETE', `/evaluators/${id}`)).status).toBe(200);
    const [job] = await s.database.db.system((tx) =>
      queryRows<{ status: string }>(
        tx,
        sql`SELECT status FROM evaluation_jobs WHERE evaluator_id = ${id} AND workflow_execution_id = ${runId}`,
      ),
    );
    expect(job?.status).toBe('skipped');
    expect((await api('GET', `/evaluators/${id}`)).status).toBe(404);
    expect((await api('GET', `/evaluators/${id}/attachments`)).status).toBe(404);
  });

  it('another organization sees no evaluators or results (database-level RLS and API)', async () => {
    const other = await signUp(s);
    const mine = await s.database.db.system((tx) =>
      queryRows<{ n: number }>(tx, sql`SELECT count(*)::int AS n FROM evaluation_results`),
    );
    expect(mine[0]!.n).toBeGreaterThan(0);
    const seen = await s.database.db.withTenant(other.organizationId, async (tx) => ({
      results: await queryRows<{ n: number }>(tx, sql`SELECT count(*)::int AS n FROM evaluation_results`),
      evaluators: await queryRows<{ n: number }>(tx, sql`SELECT count(*)::int AS n FROM evaluators`),
      versions: await queryRows<{ n: number }>(tx, sql`SELECT count(*)::int AS n FROM evaluator_versions`),
      attachments: await queryRows<{ n: number }>(
        tx,
        sql`SELECT count(*)::int AS n FROM evaluator_attachments`,
      ),
      jobs: await queryRows<{ n: number }>(tx, sql`SELECT count(*)::int AS n FROM evaluation_jobs`),
    }));
    expect(Object.values(seen).map((r) => r[0]!.n)).toEqual([0, 0, 0, 0, 0]);
    expect((await api('GET', '/evaluators', undefined, other.token)).body.data).toEqual([]);
    const [anyResult] = await s.database.db.system((tx) =>
      queryRows<{ workflow_execution_id: string }>(
        tx,
        sql`SELECT workflow_execution_id FROM evaluation_results LIMIT 1`,
      ),
    );
    expect(
      (await api('GET', `/runs/${anyResult!.workflow_execution_id}/evaluations`, undefined, other.token))
        .status,
    ).toBe(404);
  });
});
