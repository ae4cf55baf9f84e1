import { queryRows } from '@aiops/db';
import { createEmbeddingPort } from '@aiops/providers';
import { testBackend } from '@aiops/testing';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  addMember,
  call,
  type SignedUp,
  signUp,
  startTestServer,
  type TestServer,
} from '../../test-support.ts';
import { makeEvaluationEmbedder } from '../evaluations/similarity.ts';
import { ExperimentLoop } from './driver.ts';

/**
 * The "done when", through the API: a dataset built from production runs, two workflow versions
 * compared on it, the regression seen, and the worse version refused by the promotion gate unless an owner
 * overrides it with a reason (audited).
 */
let s: TestServer;
let loop: ExperimentLoop;
let owner: SignedUp;
let workflowId: string;
let datasetId: string;
const evaluatorIds: string[] = [];

const api = (method: string, path: string, body?: unknown, token = owner.token) =>
  call(s, method, `/api/v1${path}`, { token, ...(body === undefined ? {} : { body }) });

const definition = (value: string, description?: string) => ({
  name: 'answers',
  ...(description ? { description } : {}),
  input: { type: 'object', properties: { q: { type: 'string' } }, required: ['q'] },
  nodes: [{ id: 'out', type: 'output', value: { answer: value } }],
  promotion: { dataset: 'golden', evaluators: ['mentions refund', 'matches expected'], minPassRate: 0.9 },
});

async function finished(id: string) {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const r = await api('GET', `/experiments/${id}`);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    if (r.body.status !== 'running') return r.body;
    if (Date.now() > deadline) throw new Error(`experiment ${id} still running: ${JSON.stringify(r.body)}`);
    await new Promise((res) => setTimeout(res, 200));
  }
}

beforeAll(async () => {
  s = await startTestServer({ worker: true });
  loop = new ExperimentLoop(
    {
      db: s.database.db,
      runs: s.app.engine.runs,
      model: s.app.engine.model,
      embed: makeEvaluationEmbedder(
        s.database.db,
        createEmbeddingPort({ resolveIntegration: () => undefined }),
      ),
    },
    100,
  );
  loop.start();
  owner = await signUp(s);
  const wf = await api('POST', '/workflows', {
    status: 'active',
    definition: definition('Refund for {{input.q}}'),
  });
  expect(wf.status, JSON.stringify(wf.body)).toBe(201);
  workflowId = wf.body.id;
  for (const body of [
    { name: 'mentions refund', kind: 'rule', config: { rule: 'contains', value: 'refund' } },
    { name: 'matches expected', kind: 'rule', config: { rule: 'equals_expected' } },
    {
      name: 'helpful',
      kind: 'judge',
      config: {
        template: 'helpfulness',
        model: 'simulator:json',
        simulate: {
          when: [{ contains: ['Sorry'], output: { score: 20, explanation: 'apologizes, no help' } }],
          output: { score: 90, explanation: 'offers a refund' },
        },
      },
    },
  ]) {
    const r = await api('POST', '/evaluators', body);
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    evaluatorIds.push(r.body.id);
  }
  // Production traffic, then a dataset built from it.
  const ds = await api('POST', '/datasets', { name: 'golden' });
  datasetId = ds.body.id;
  for (const q of ['late parcel', 'broken cup', 'wrong size']) {
    const run = await api('POST', `/workflows/${workflowId}/runs`, { input: { q }, wait: 30 });
    expect(run.body.status, JSON.stringify(run.body)).toBe('completed');
    const item = await api('POST', `/datasets/${datasetId}/items/from-run`, { runId: run.body.id });
    expect(item.status, JSON.stringify(item.body)).toBe(201);
  }
}, 240_000);
afterAll(async () => {
  await loop?.stop();
  await s?.close();
});

describe(`experiments and the promotion gate on ${testBackend()}`, () => {
  let baseId: string;

  it('runs a version over the dataset with bounded parallelism; aggregates per evaluator', async () => {
    const bad = await api('POST', '/experiments', { datasetId, workflowId, evaluatorIds, parallelism: 0 });
    expect(bad.status).toBe(400);
    const unknown = await api('POST', '/experiments', {
      datasetId,
      workflowId,
      evaluatorIds: ['00000000-0000-4000-8000-000000000000'],
    });
    expect(unknown.status).toBe(404);
    const noVersion = await api('POST', '/experiments', {
      datasetId,
      workflowId,
      workflowVersion: 9,
      evaluatorIds,
    });
    expect(noVersion.status).toBe(404);

    const r = await api('POST', '/experiments', { datasetId, workflowId, evaluatorIds, parallelism: 2 });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(r.body).toMatchObject({ status: 'running', totalItems: 3, workflowVersion: 1, datasetVersion: 4 });
    baseId = r.body.id;
    const done = await finished(baseId);
    expect(done).toMatchObject({ status: 'completed', doneItems: 3 });
    expect(done.aggregates).toEqual([
      { evaluatorId: evaluatorIds[0], name: 'mentions refund', mean: 100, p50: 100, passRate: 1, scored: 3 },
      { evaluatorId: evaluatorIds[1], name: 'matches expected', mean: 100, p50: 100, passRate: 1, scored: 3 },
      { evaluatorId: evaluatorIds[2], name: 'helpful', mean: 90, p50: 90, passRate: 1, scored: 3 },
    ]);
    expect(done.totals.failedRuns).toBe(0);
    const items = await api('GET', `/experiments/${baseId}/items`);
    expect(items.body.data.map((i: { output: unknown }) => i.output)).toEqual([
      { answer: 'Refund for late parcel' },
      { answer: 'Refund for broken cup' },
      { answer: 'Refund for wrong size' },
    ]);
    for (const i of items.body.data) {
      expect(i.runId).toMatch(/^[0-9a-f-]{36}$/);
      expect(i.latencyMs).toBeGreaterThanOrEqual(0);
    }
    // Never more than `parallelism` runs at once: the runs' start and end times overlap at most 2 deep.
    const runs = await s.database.db.system((tx) =>
      queryRows<{ started_at: Date; completed_at: Date }>(
        tx,
        sql`SELECT started_at, completed_at FROM workflow_executions WHERE metadata->>'experimentId' = ${baseId}`,
      ),
    );
    expect(runs).toHaveLength(3);
    const edges = runs.flatMap((r) => [
      { t: new Date(r.started_at).getTime(), d: 1 },
      { t: new Date(r.completed_at).getTime(), d: -1 },
    ]);
    edges.sort((a, b) => a.t - b.t || a.d - b.d);
    let open = 0;
    let most = 0;
    for (const e of edges) {
      open += e.d;
      most = Math.max(most, open);
    }
    expect(most).toBeLessThanOrEqual(2);
  });

  it('blocks the worse version (409 promotion_blocked with the figures); compare shows the regressions', async () => {
    const saved = await api('PATCH', `/workflows/${workflowId}`, {
      definition: definition('Sorry about {{input.q}}'),
      status: 'active',
      promotionWaitSeconds: 90,
    });
    expect(saved.status, JSON.stringify(saved.body)).toBe(409);
    expect(saved.body.error.code).toBe('promotion_blocked');
    const figures = saved.body.error.details;
    expect(figures).toMatchObject({ version: 2, minPassRate: 0.9, dataset: 'golden' });
    expect(figures.shortfalls).toEqual([
      { evaluator: 'mentions refund', figure: 'passRate', value: 0, required: 0.9 },
      { evaluator: 'matches expected', figure: 'passRate', value: 0, required: 0.9 },
    ]);
    // The candidate is kept in history, not current.
    const wf = await api('GET', `/workflows/${workflowId}`);
    expect(wf.body.version).toBe(1);
    const versions = await api('GET', `/workflows/${workflowId}/versions`);
    expect(versions.body.data.map((v: { version: number }) => v.version)).toEqual([2, 1]);

    const gateExp = await api('GET', `/experiments/${figures.experimentId}`);
    expect(gateExp.body).toMatchObject({ purpose: 'promotion', workflowVersion: 2, status: 'completed' });
    expect(gateExp.body.evaluators.map((e: { name: string }) => e.name)).toEqual([
      'mentions refund',
      'matches expected',
    ]);
    // The candidate version runs like any other: compare it with the current one on every evaluator.
    const cand = await api('POST', '/experiments', {
      datasetId,
      workflowId,
      workflowVersion: 2,
      evaluatorIds,
    });
    expect(cand.status, JSON.stringify(cand.body)).toBe(201);
    await finished(cand.body.id);
    const cmp = await api('GET', `/experiments/compare?base=${baseId}&candidate=${cand.body.id}`);
    expect(cmp.status, JSON.stringify(cmp.body)).toBe(200);
    expect(cmp.body.regressions).toBe(3);
    expect(cmp.body.improvements).toBe(0);
    expect(cmp.body.aggregates.find((a: { name: string }) => a.name === 'helpful')).toEqual({
      name: 'helpful',
      baseMean: 90,
      candidateMean: 20,
      basePassRate: 1,
      candidatePassRate: 0,
      delta: -70,
    });
    expect(cmp.body.items[0]).toMatchObject({
      baseOutput: { answer: 'Refund for late parcel' },
      candidateOutput: { answer: 'Sorry about late parcel' },
      regression: true,
    });
    expect(cmp.body.items[0].scores[0]).toEqual({
      name: 'mentions refund',
      base: 100,
      candidate: 0,
      basePassed: true,
      candidatePassed: false,
    });

    // Rolling back to it reuses the same experiment and is refused the same way.
    const rb = await api('POST', `/workflows/${workflowId}/rollback`, { version: 2 });
    expect(rb.status).toBe(409);
    expect(rb.body.error.details.experimentId).toBe(figures.experimentId);
  });

  it('only an owner overrides, with a reason that is audited', async () => {
    const admin = await addMember(s, owner, 'admin');
    const denied = await api(
      'POST',
      `/workflows/${workflowId}/rollback`,
      { version: 2, promotionOverride: { reason: 'I am sure' } },
      admin.token,
    );
    expect(denied.status).toBe(403);
    const short = await api('POST', `/workflows/${workflowId}/rollback`, {
      version: 2,
      promotionOverride: { reason: '' },
    });
    expect(short.status).toBe(400);
    const ok = await api('POST', `/workflows/${workflowId}/rollback`, {
      version: 2,
      promotionOverride: { reason: 'legal asked for the apology wording' },
    });
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expect(ok.body.version).toBe(2);
    const audits = await s.database.db.system((tx) =>
      queryRows<{ action: string; metadata: Record<string, unknown>; user_id: string }>(
        tx,
        sql`SELECT action, metadata, user_id FROM audit_logs WHERE entity_type = 'workflow' AND entity_id = ${workflowId}
            AND action = 'promotion_overridden'`,
      ),
    );
    expect(audits).toHaveLength(1);
    expect(audits[0]!.user_id).toBe(owner.userId);
    expect(audits[0]!.metadata).toMatchObject({ reason: 'legal asked for the apology wording', version: 2 });
  });

  it('lets a version through that clears the bar; answers promotion_pending while its experiment runs', async () => {
    const pending = await api('PATCH', `/workflows/${workflowId}`, {
      definition: definition('Refund for {{input.q}}', 'back to refunds'),
      promotionWaitSeconds: 0,
    });
    expect(pending.status, JSON.stringify(pending.body)).toBe(409);
    expect(pending.body.error.code).toBe('promotion_pending');
    const { experimentId, version } = pending.body.error.details;
    expect(version).toBe(3);
    await finished(experimentId);
    const promoted = await api('POST', `/workflows/${workflowId}/rollback`, { version: 3 });
    expect(promoted.status, JSON.stringify(promoted.body)).toBe(200);
    expect(promoted.body).toMatchObject({ version: 3, description: 'back to refunds' });
    const rolled = await s.database.db.system((tx) =>
      queryRows<{ metadata: Record<string, unknown> }>(
        tx,
        sql`SELECT metadata FROM audit_logs WHERE entity_type = 'workflow' AND entity_id = ${workflowId}
            AND action = 'rolled_back' ORDER BY created_at DESC LIMIT 1`,
      ),
    );
    expect(rolled[0]!.metadata).toMatchObject({ promotion: { experimentId, result: 'passed' } });
  });

  it('runs an agent version alone over the dataset: same scores, aggregates, compare and costs', async () => {
    const agent = await api('POST', '/agents', {
      name: 'Refunder',
      type: 'analyzer',
      model: 'simulator:echo',
      promptTemplate: 'Refund for {{input.q}}',
    });
    expect(agent.status, JSON.stringify(agent.body)).toBe(201);
    const agentId = agent.body.id as string;
    const v2 = await api('PATCH', `/agents/${agentId}`, { promptTemplate: 'Sorry about {{input.q}}' });
    expect(v2.body.versionNumber).toBe(2);
    const evs = [evaluatorIds[0], evaluatorIds[2]];
    // Exactly one of a workflow or an agent; an unknown agent or version says which.
    const both = await api('POST', '/experiments', { datasetId, workflowId, agentId, evaluatorIds: evs });
    expect(both.status).toBe(400);
    expect(JSON.stringify(both.body)).toContain('exactly one of workflowId');
    expect((await api('POST', '/experiments', { datasetId, evaluatorIds: evs })).status).toBe(400);
    const noAgent = await api('POST', '/experiments', {
      datasetId,
      agentId: '00000000-0000-4000-8000-000000000000',
      evaluatorIds: evs,
    });
    expect(noAgent.status).toBe(404);
    expect(noAgent.body.error.message).toContain('Agent');
    const noVersion = await api('POST', '/experiments', {
      datasetId,
      agentId,
      agentVersion: 9,
      evaluatorIds: evs,
    });
    expect(noVersion.status).toBe(404);
    expect(noVersion.body.error.message).toContain('Version 9 of agent "Refunder"');

    const base = await api('POST', '/experiments', {
      datasetId,
      agentId,
      agentVersion: 1,
      evaluatorIds: evs,
    });
    expect(base.status, JSON.stringify(base.body)).toBe(201);
    expect(base.body).toMatchObject({
      agentId,
      agentVersion: 1,
      workflowVersion: 1,
      name: 'golden · Refunder v1',
    });
    const cand = await api('POST', '/experiments', { datasetId, agentId, evaluatorIds: evs, parallelism: 2 });
    expect(cand.status, JSON.stringify(cand.body)).toBe(201);
    // The current agent version (2), through the same one-step harness workflow.
    expect(cand.body).toMatchObject({
      agentId,
      agentVersion: 2,
      workflowId: base.body.workflowId,
      workflowVersion: 2,
    });
    // The harness is saved once per agent and once per agent version, audited.
    const harnessAudit = await s.database.db.system((tx) =>
      queryRows<{ action: string }>(
        tx,
        sql`SELECT action FROM audit_logs WHERE entity_type = 'workflow' AND entity_id = ${base.body.workflowId}
            ORDER BY created_at`,
      ),
    );
    expect(harnessAudit.map((a) => a.action)).toEqual(['created', 'candidate_saved']);
    const [b, c] = [await finished(base.body.id), await finished(cand.body.id)];
    expect(b.aggregates.map((a: { passRate: number }) => a.passRate)).toEqual([1, 1]);
    expect(c.aggregates.map((a: { passRate: number }) => a.passRate)).toEqual([0, 0]);
    expect(b.totals.tokens).toBeGreaterThan(0);
    expect(b.totals.failedRuns).toBe(0);
    const items = await api('GET', `/experiments/${base.body.id}/items`);
    expect(items.body.data.map((i: { output: unknown }) => i.output)).toEqual([
      'Refund for late parcel',
      'Refund for broken cup',
      'Refund for wrong size',
    ]);
    const listed = await api('GET', `/experiments?agentId=${agentId}`);
    expect(listed.body.data.map((e: { id: string }) => e.id).sort()).toEqual(
      [base.body.id, cand.body.id].sort(),
    );
    const cmp = await api('GET', `/experiments/compare?base=${base.body.id}&candidate=${cand.body.id}`);
    expect(cmp.status, JSON.stringify(cmp.body)).toBe(200);
    expect(cmp.body.regressions).toBe(3);
    expect(cmp.body.items[0]).toMatchObject({
      baseOutput: 'Refund for late parcel',
      candidateOutput: 'Sorry about late parcel',
      regression: true,
    });
  });
});
