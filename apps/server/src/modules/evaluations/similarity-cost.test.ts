import { queryRows } from '@aiops/db';
import { createEmbeddingPort, simulatorEmbedding } from '@aiops/providers';
import { type FakeProviderServer, fakeEmbedding, startFakeOpenAI, testBackend } from '@aiops/testing';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type SignedUp, signUp, startTestServer, type TestServer } from '../../test-support.ts';
import { recordModelSpend } from '../billing/ledger.ts';
import { onlinePass } from './online.ts';
import { makeEvaluationEmbedder } from './similarity.ts';

const KEY = 'sk-fake-embeddings';
let s: TestServer;
let fake: FakeProviderServer;
let owner: SignedUp;
let workflowId: string;
let agentId: string;
let integrationId: string;

const api = (method: string, path: string, body?: unknown, token = owner.token) =>
  call(s, method, `/api/v1${path}`, { token, ...(body === undefined ? {} : { body }) });

const evaluator = async (body: Record<string, unknown>) => {
  const r = await api('POST', '/evaluators', body);
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body as { id: string; threshold: number };
};

const runWorkflow = async (text: string) => {
  const r = await api('POST', `/workflows/${workflowId}/runs`, { input: { text }, wait: 20 });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body.id as string;
};

/** The test's own cosine × 100, rounded to 2 decimals, floored at 0 (what the evaluator must report). */
const expectedScore = (a: number[], b: number[]) => {
  const dot = a.reduce((t, x, i) => t + x * b[i]!, 0);
  const cos = dot / (Math.hypot(...a) * Math.hypot(...b));
  return Math.max(0, Math.round(cos * 10_000) / 100);
};

const monthlyCost = async (orgId = owner.organizationId) => {
  const [row] = await s.database.db.system((tx) =>
    queryRows<{ cost: string }>(
      tx,
      sql`SELECT monthly_cost_used::text AS cost FROM organizations WHERE id = ${orgId}`,
    ),
  );
  return row!.cost;
};

const ledgerOf = (sourceKey: string) =>
  s.database.db.system((tx) =>
    queryRows<{
      usage_type: string;
      total_cost: string;
      quantity: string;
      input_tokens: string;
      output_tokens: string;
      resource_type: string;
      resource_id: string;
      workflow_id: string | null;
      model: string;
      details: Record<string, unknown>;
    }>(
      tx,
      sql`SELECT usage_type, total_cost::text AS total_cost, quantity::text AS quantity,
            input_tokens::text AS input_tokens, output_tokens::text AS output_tokens, resource_type,
            resource_id, workflow_id, model, details
          FROM usage_records WHERE organization_id = ${owner.organizationId} AND source_key = ${sourceKey}`,
    ),
  );

/** Sum of two decimal strings, in the database (exact). */
const plus = async (a: string, b: string) => {
  const [r] = await s.database.db.system((tx) =>
    queryRows<{ v: string }>(tx, sql`SELECT (${a}::numeric + ${b}::numeric)::numeric(14, 6)::text AS v`),
  );
  return r!.v;
};

beforeAll(async () => {
  fake = await startFakeOpenAI('openai', { apiKey: KEY });
  s = await startTestServer({ worker: true });
  owner = await signUp(s);
  expect((await api('PATCH', '/organization', { settings: { allowPrivateNetworks: true } })).status).toBe(
    200,
  );
  const integration = await api('POST', '/integrations', {
    name: 'OpenAI (fake)',
    provider: 'openai',
    config: { baseUrl: fake.baseUrl },
    credentials: { apiKey: KEY },
  });
  expect(integration.status, JSON.stringify(integration.body)).toBe(201);
  integrationId = integration.body.id;
  const agent = await api('POST', '/agents', {
    name: 'Echo',
    model: 'simulator:echo',
    promptTemplate: '{{input.text}}',
  });
  expect(agent.status).toBe(201);
  agentId = agent.body.id;
  const wf = await api('POST', '/workflows', {
    status: 'active',
    definition: {
      name: 'echoing',
      input: { type: 'object', properties: { text: { type: 'string' } } },
      nodes: [{ id: 'echo', type: 'agent', agentId }],
    },
  });
  expect(wf.status, JSON.stringify(wf.body)).toBe(201);
  workflowId = wf.body.id;
}, 180_000);
afterAll(async () => {
  await s?.close();
  await fake?.close();
});

describe(`embedding similarity on ${testBackend()}`, () => {
  const expected = 'Your parcel ships on Monday from the Berlin warehouse';
  const close = 'Your parcel ships on Monday from the Berlin warehouse today';
  const far = 'Bananas are rich in potassium and taste sweet';

  it('scores cosine similarity × 100 with the simulator embedder (the default): passing and failing', async () => {
    const e = await evaluator({
      name: 'close to the answer (simulator)',
      kind: 'rule',
      config: { rule: 'embedding_similarity', expected },
    });
    expect(e.threshold).toBe(80);
    const want = expectedScore(simulatorEmbedding(close), simulatorEmbedding(expected));
    expect(want).toBeGreaterThanOrEqual(80);
    const pass = await api('POST', `/evaluators/${e.id}/test`, { output: close });
    expect(pass.status, JSON.stringify(pass.body)).toBe(200);
    expect(pass.body).toMatchObject({
      score: want,
      passed: true,
      threshold: 80,
      costUsd: 0,
      details: { rule: 'embedding_similarity', embeddingModel: 'simulator:embed' },
    });
    expect(pass.body.explanation).toContain(`${want}% similar`);
    const wantFar = expectedScore(simulatorEmbedding(far), simulatorEmbedding(expected));
    expect(wantFar).toBeLessThan(80);
    const fail = await api('POST', `/evaluators/${e.id}/test`, { output: far });
    expect(fail.body).toMatchObject({ score: wantFar, passed: false });

    // a finished run's output, stored as a result
    const runId = await runWorkflow(close);
    const run = await api('GET', `/runs/${runId}`);
    const scored = await api('POST', '/evaluations/run', { runId, evaluatorIds: [e.id] });
    expect(scored.status, JSON.stringify(scored.body)).toBe(200);
    const outputText =
      typeof run.body.output === 'string' ? run.body.output : JSON.stringify(run.body.output);
    expect(scored.body.data[0]).toMatchObject({
      kind: 'rule',
      source: 'on_demand',
      score: expectedScore(simulatorEmbedding(outputText), simulatorEmbedding(expected)),
    });
  });

  it("goes through a provider's embeddings endpoint (OpenAI wire), by model or as the organization's default", async () => {
    const e = await evaluator({
      name: 'close to the answer (openai)',
      kind: 'rule',
      threshold: 70,
      config: {
        rule: 'embedding_similarity',
        expected,
        model: 'openai:text-embedding-3-small',
        integrationId,
      },
    });
    const before = fake.exchanges.length;
    const pass = await api('POST', `/evaluators/${e.id}/test`, { output: close });
    expect(pass.status, JSON.stringify(pass.body)).toBe(200);
    const want = expectedScore(fakeEmbedding(close), fakeEmbedding(expected));
    expect(want).toBeGreaterThanOrEqual(70);
    expect(want).not.toBe(expectedScore(simulatorEmbedding(close), simulatorEmbedding(expected)));
    expect(pass.body).toMatchObject({
      score: want,
      passed: true,
      details: { embeddingModel: 'openai:text-embedding-3-small' },
    });
    const sent = fake.exchanges.slice(before);
    expect(sent.map((x) => [x.request.path, x.status])).toEqual([['/v1/embeddings', 200]]);
    expect(sent[0]!.request.body).toMatchObject({
      model: 'text-embedding-3-small',
      input: [close, expected],
    });
    expect(sent[0]!.request.headers.authorization).toBe(`Bearer ${KEY}`);
    const wantFar = expectedScore(fakeEmbedding(far), fakeEmbedding(expected));
    expect(wantFar).toBeLessThan(70);
    const fail = await api('POST', `/evaluators/${e.id}/test`, { output: far });
    expect(fail.body).toMatchObject({ score: wantFar, passed: false });

    // Without a model, the organization's embedding model (the one semantic memory and terminology use).
    await s.database.db.system((tx) =>
      tx.execute(
        sql`UPDATE organizations SET settings = settings || '{"embeddingModel": "openai:text-embedding-3-small"}'::jsonb
            WHERE id = ${owner.organizationId}`,
      ),
    );
    try {
      const byDefault = await evaluator({
        name: 'close (org default)',
        kind: 'rule',
        config: { rule: 'embedding_similarity', expected },
      });
      const calls = fake.exchanges.length;
      const r = await api('POST', `/evaluators/${byDefault.id}/test`, { output: close });
      expect(r.body).toMatchObject({
        score: want,
        details: { embeddingModel: 'openai:text-embedding-3-small' },
      });
      expect(fake.exchanges.length).toBe(calls + 1);
    } finally {
      await s.database.db.system((tx) =>
        tx.execute(
          sql`UPDATE organizations SET settings = settings - 'embeddingModel' WHERE id = ${owner.organizationId}`,
        ),
      );
    }
  });

  it('refuses bad embedding configs at save and reports provider failures without a score', async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ rule: 'embedding_similarity' }, /expected/],
      [{ rule: 'embedding_similarity', expected: '' }, /expected/],
      [{ rule: 'embedding_similarity', expected: 'x', model: 'anthropic:claude' }, /not an embedding model/],
      [{ rule: 'embedding_similarity', expected: 'x', integrationId }, /model/],
      [
        { rule: 'embedding_similarity', expected: 'x', model: 'google:text-embedding-004', integrationId },
        /openai integration|is for openai/,
      ],
    ];
    for (const [config, message] of cases) {
      const r = await api('POST', '/evaluators', { name: 'bad embedding', kind: 'rule', config });
      expect(r.status, JSON.stringify(config)).toBe(400);
      expect(JSON.stringify(r.body.error)).toMatch(message);
    }
    const noIntegration = await evaluator({
      name: 'cohere without an integration',
      kind: 'rule',
      config: { rule: 'embedding_similarity', expected: 'x', model: 'cohere:embed-english-v3.0' },
    });
    const r = await api('POST', `/evaluators/${noIntegration.id}/test`, { output: 'x' });
    // a provider failure (the model port's error: 502, not the caller's credentials), never a score
    expect(r.status).toBe(502);
    expect(r.body.error).toMatchObject({ code: 'provider_auth_failed' });
    expect(r.body.error.message).toMatch(/no cohere integration/);
    expect(r.body.score).toBeUndefined();
  });
});

describe(`LLM-as-judge cost on the monthly cost, usage ledger and cost report on ${testBackend()}`, () => {
  it('adds each judge call to the usage ledger and the monthly cost once; simulator judges cost 0', async () => {
    const judge = await evaluator({
      name: 'relevancy (fake gpt)',
      kind: 'judge',
      config: { template: 'relevancy', model: 'openai:gpt-4o-mini', integrationId },
    });
    const runId = await runWorkflow('where is my parcel?');
    const start = await monthlyCost();

    fake.reply({
      kind: 'text',
      text: '{"score": 90, "explanation": "on topic"}',
      usage: { input: 2000, output: 40 },
    });
    const r = await api('POST', '/evaluations/run', { runId, evaluatorIds: [judge.id] });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const result = r.body.data[0];
    expect(result.costUsd).toBeGreaterThan(0);
    const [stored] = await s.database.db.system((tx) =>
      queryRows<{ cost: string }>(
        tx,
        sql`SELECT cost_usd::text AS cost FROM evaluation_results WHERE id = ${result.id}`,
      ),
    );
    const [ledger] = await ledgerOf(`evaluation:${result.id}`);
    expect(ledger).toMatchObject({
      usage_type: 'tokens',
      total_cost: stored!.cost,
      quantity: String(result.details.tokens.input + result.details.tokens.output),
      input_tokens: String(result.details.tokens.input),
      output_tokens: String(result.details.tokens.output),
      resource_type: 'evaluation_result',
      resource_id: result.id,
      workflow_id: workflowId,
      model: result.details.model,
      details: { runId, evaluatorId: judge.id, evaluatorName: 'relevancy (fake gpt)', source: 'on_demand' },
    });
    const afterOne = await monthlyCost();
    expect(afterOne).toBe(await plus(start, stored!.cost));

    // Recording the same source again is a no-op: neither a second ledger row nor a second charge.
    const again = await s.database.db.withTenant(owner.organizationId, (tx) =>
      recordModelSpend(tx, {
        organizationId: owner.organizationId,
        sourceKey: `evaluation:${result.id}`,
        resourceType: 'evaluation_result',
        resourceId: result.id,
        model: result.details.model,
        inputTokens: 1,
        outputTokens: 1,
        costUsd: stored!.cost,
      }),
    );
    expect(again).toBe(false);
    expect(await ledgerOf(`evaluation:${result.id}`)).toHaveLength(1);
    expect(await monthlyCost()).toBe(afterOne);

    // A test call of the judge spends too: on the ledger as an evaluator test.
    fake.reply({
      kind: 'text',
      text: '{"score": 40, "explanation": "partly"}',
      usage: { input: 500, output: 10 },
    });
    const tested = await api('POST', `/evaluators/${judge.id}/test`, { input: 'q', output: 'a' });
    expect(tested.status, JSON.stringify(tested.body)).toBe(200);
    const tests = await s.database.db.system((tx) =>
      queryRows<{ total_cost: string; resource_id: string }>(
        tx,
        sql`SELECT total_cost::text AS total_cost, resource_id FROM usage_records
            WHERE organization_id = ${owner.organizationId} AND resource_type = 'evaluator_test'`,
      ),
    );
    expect(tests).toHaveLength(1);
    expect(tests[0]!.resource_id).toBe(judge.id);
    expect(Number(tests[0]!.total_cost)).toBe(tested.body.costUsd);
    const afterTest = await monthlyCost();
    expect(afterTest).toBe(await plus(afterOne, tests[0]!.total_cost));

    // Online scoring of an agent attempt by the judge: accounted the same way, with the agent recorded.
    expect((await api('POST', `/evaluators/${judge.id}/attachments`, { agentId })).status).toBe(201);
    const onlineRun = await runWorkflow('second question');
    fake.reply({
      kind: 'text',
      text: '{"score": 70, "explanation": "fine"}',
      usage: { input: 800, output: 30 },
    });
    const ports = {
      model: s.app.engine.model,
      embed: makeEvaluationEmbedder(
        s.database.db,
        createEmbeddingPort({ resolveIntegration: () => undefined }),
      ),
    };
    const passed = await onlinePass(s.database.db, ports, { batch: 100 });
    expect(passed.done).toBe(1);
    const online = (await api('GET', `/runs/${onlineRun}/evaluations`)).body.data[0];
    expect(online).toMatchObject({ source: 'online', kind: 'judge', nodeId: 'echo' });
    const [onlineLedger] = await ledgerOf(`evaluation:${online.id}`);
    expect(onlineLedger!.details).toMatchObject({ agentId, source: 'online', runId: onlineRun });
    expect(await monthlyCost()).toBe(await plus(afterTest, onlineLedger!.total_cost));

    // A simulator judge is on the ledger at cost 0 and leaves the monthly cost as it was.
    const sim = await evaluator({
      name: 'clarity (simulated)',
      kind: 'judge',
      config: {
        template: 'clarity',
        model: 'simulator:json',
        simulate: { output: { score: 80, explanation: 'ok' } },
      },
    });
    const before = await monthlyCost();
    const simResult = (await api('POST', '/evaluations/run', { runId, evaluatorIds: [sim.id] })).body.data[0];
    expect((await ledgerOf(`evaluation:${simResult.id}`))[0]).toMatchObject({ total_cost: '0.000000' });
    expect(await monthlyCost()).toBe(before);
    // A rule costs nothing and writes no ledger row.
    const rule = await evaluator({
      name: 'short',
      kind: 'rule',
      config: { rule: 'tokens_max', maxTokens: 10_000 },
    });
    const ruleResult = (await api('POST', '/evaluations/run', { runId, evaluatorIds: [rule.id] })).body
      .data[0];
    expect(await ledgerOf(`evaluation:${ruleResult.id}`)).toEqual([]);
  });

  it('GET /costs shows judge spend by evaluator beside the runs’ model calls; filters apply; tenants apart', async () => {
    const judges = await s.database.db.system((tx) =>
      queryRows<{ cost: string; calls: number; runs: number; input: string; output: string }>(
        tx,
        sql`SELECT sum(total_cost)::text AS cost, count(*)::int AS calls,
              count(DISTINCT details->>'runId')::int AS runs, sum(input_tokens)::text AS input,
              sum(output_tokens)::text AS output
            FROM usage_records WHERE organization_id = ${owner.organizationId}
              AND resource_type IN ('evaluation_result', 'evaluator_test')`,
      ),
    );
    const report = await api('GET', '/costs?groupBy=model');
    expect(report.status, JSON.stringify(report.body)).toBe(200);
    const ev = report.body.evaluations;
    expect(ev.total.cost).toBe(Number(judges[0]!.cost));
    expect(ev.total.calls).toBe(judges[0]!.calls);
    expect(ev.total.runs).toBe(judges[0]!.runs);
    expect(ev.total.tokens).toBe(Number(judges[0]!.input) + Number(judges[0]!.output));
    const gpt = ev.groups.find((g: { name: string }) => g.name === 'relevancy (fake gpt)');
    // one on-demand scoring, one test, one online scoring
    expect(gpt).toMatchObject({ calls: 3, runs: 2 });
    expect(gpt.cost).toBeGreaterThan(0);
    expect(ev.groups.find((g: { name: string }) => g.name === 'clarity (simulated)')).toMatchObject({
      calls: 1,
      cost: 0,
    });
    expect(ev.groups[0].name).toBe('relevancy (fake gpt)');
    // the runs' own model calls (simulator) stay as they were reported, apart from the judges
    expect(report.body.total.cost).toBe(0);

    const byWorkflow = await api('GET', `/costs?workflowId=${workflowId}`);
    const wfGpt = byWorkflow.body.evaluations.groups.find(
      (g: { name: string }) => g.name === 'relevancy (fake gpt)',
    );
    expect(wfGpt).toMatchObject({ calls: 2, runs: 2 });
    const byAgent = await api('GET', `/costs?groupBy=agent&agentId=${agentId}`);
    expect(
      byAgent.body.evaluations.groups.map((g: { name: string; calls: number }) => [g.name, g.calls]),
    ).toEqual([['relevancy (fake gpt)', 1]]);
    const old = await api('GET', '/costs?from=2020-01-01T00:00:00Z&to=2020-02-01T00:00:00Z');
    expect(old.body.evaluations).toEqual({ total: { cost: 0, tokens: 0, calls: 0, runs: 0 }, groups: [] });

    const other = await signUp(s);
    const theirs = await api('GET', '/costs', undefined, other.token);
    expect(theirs.body.evaluations).toEqual({ total: { cost: 0, tokens: 0, calls: 0, runs: 0 }, groups: [] });
    const rls = await s.database.db.withTenant(other.organizationId, (tx) =>
      queryRows<{ n: number }>(
        tx,
        sql`SELECT count(*)::int AS n FROM usage_records WHERE resource_type IN ('evaluation_result', 'evaluator_test')`,
      ),
    );
    expect(rls[0]!.n).toBe(0);
  });
});
