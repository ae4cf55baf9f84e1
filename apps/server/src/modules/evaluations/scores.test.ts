import { queryRows } from '@aiops/db';
import { testBackend } from '@aiops/testing';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type SignedUp, signUp, startTestServer, type TestServer } from '../../test-support.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
let s: TestServer;
let owner: SignedUp;
let workflowId: string;

const api = (method: string, path: string, body?: unknown, token = owner.token) =>
  call(s, method, `/api/v1${path}`, { token, ...(body === undefined ? {} : { body }) });

const runWorkflow = async (text: string) => {
  const r = await api('POST', `/workflows/${workflowId}/runs`, { input: { text }, wait: 20 });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  expect(r.body.status).toBe('completed');
  return r.body as { id: string };
};

const attemptsOf = (runId: string) =>
  s.database.db.system((tx) =>
    queryRows<{ id: string; node_id: string; attempt: number }>(
      tx,
      sql`SELECT id, node_id, attempt FROM agent_executions WHERE workflow_execution_id = ${runId} ORDER BY node_id`,
    ),
  );

beforeAll(async () => {
  s = await startTestServer({ worker: true });
  owner = await signUp(s);
  const agent = await api('POST', '/agents', {
    name: 'Helper',
    model: 'simulator:echo',
    promptTemplate: 'Reply: {{input.text}}',
  });
  expect(agent.status).toBe(201);
  const wf = await api('POST', '/workflows', {
    status: 'active',
    definition: {
      name: 'scored',
      input: { type: 'object', properties: { text: { type: 'string' } } },
      nodes: [{ id: 'reply', type: 'agent', agentId: agent.body.id }],
    },
  });
  expect(wf.status, JSON.stringify(wf.body)).toBe(201);
  workflowId = wf.body.id;
}, 180_000);
afterAll(async () => {
  await s?.close();
});

describe(`manual scores and the runs list's score filter on ${testBackend()}`, () => {
  it('a person scores a run 👍/👎 or 0–100 with a comment, and a step attempt by node; user recorded, audited', async () => {
    const run = await runWorkflow('hello');
    const up = await api('POST', `/runs/${run.id}/scores`, { thumbs: 'up', comment: 'spot on' });
    expect(up.status, JSON.stringify(up.body)).toBe(201);
    expect(up.body).toMatchObject({
      runId: run.id,
      agentExecutionId: null,
      nodeId: null,
      attempt: null,
      evaluatorId: null,
      evaluatorName: 'human',
      evaluatorVersion: 0,
      kind: 'manual',
      source: 'manual',
      score: 100,
      threshold: 100,
      passed: true,
      explanation: 'spot on',
      details: { type: 'thumbs', thumbs: 'up' },
      costUsd: 0,
      createdBy: { id: owner.userId },
    });
    expect(up.body.id).toMatch(UUID);
    expect(up.body.createdBy.name.length).toBeGreaterThan(0);

    const [attempt] = await attemptsOf(run.id);
    const step = await api('POST', `/runs/${run.id}/scores`, {
      score: 35,
      comment: 'too short',
      name: 'tone',
      nodeId: 'reply',
    });
    expect(step.status, JSON.stringify(step.body)).toBe(201);
    expect(step.body).toMatchObject({
      agentExecutionId: attempt!.id,
      nodeId: 'reply',
      attempt: attempt!.attempt,
      evaluatorName: 'tone',
      score: 35,
      threshold: 50,
      passed: false,
      details: { type: 'number' },
    });
    const byId = await api('POST', `/runs/${run.id}/scores`, {
      thumbs: 'down',
      agentExecutionId: attempt!.id,
    });
    expect(byId.status).toBe(201);
    expect(byId.body).toMatchObject({ nodeId: 'reply', score: 0, passed: false, explanation: null });
    const withThreshold = await api('POST', `/runs/${run.id}/scores`, { score: 35, threshold: 30 });
    expect(withThreshold.body).toMatchObject({ score: 35, threshold: 30, passed: true });

    const listed = await api('GET', `/runs/${run.id}/evaluations`);
    expect(listed.body.data.map((r: { id: string }) => r.id).sort()).toEqual(
      [up.body.id, step.body.id, byId.body.id, withThreshold.body.id].sort(),
    );

    // the agent's quality metric takes the step scores like any evaluator's
    const quality = await s.database.db.system((tx) =>
      queryRows<{ quality: string }>(
        tx,
        sql`SELECT quality FROM agent_metrics WHERE workflow_execution_id = ${run.id} AND quality IS NOT NULL ORDER BY quality`,
      ),
    );
    expect(quality.map((q) => Number(q.quality))).toEqual([0, 35]);

    const audits = await s.database.db.system((tx) =>
      queryRows<{ entity_id: string; user_id: string; changes: { after: Record<string, unknown> } }>(
        tx,
        sql`SELECT entity_id, user_id, changes FROM audit_logs
            WHERE entity_type = 'evaluation_result' AND action = 'created' AND entity_id = ${step.body.id}`,
      ),
    );
    expect(audits).toHaveLength(1);
    expect(audits[0]!.user_id).toBe(owner.userId);
    expect(audits[0]!.changes.after).toMatchObject({
      runId: run.id,
      source: 'manual',
      score: 35,
      comment: 'too short',
    });
  });

  it('refuses bad scores with a 4xx naming the field', async () => {
    const run = await runWorkflow('bad input');
    const cases: [unknown, number, RegExp][] = [
      [{}, 400, /thumbs.*score/],
      [{ thumbs: 'up', score: 10 }, 400, /exactly one of thumbs/],
      [{ score: 101 }, 400, /score/],
      [{ thumbs: 'sideways' }, 400, /thumbs/],
      [{ score: 50, comment: 'x'.repeat(5_001) }, 400, /comment/],
      [{ thumbs: 'up', threshold: 20 }, 400, /threshold/],
      [{ score: 50, attempt: 1 }, 400, /attempt needs nodeId/],
      [{ score: 50, nodeId: 'nope' }, 404, /Step attempt/],
      [{ score: 50, nodeId: 'reply', attempt: 9 }, 404, /reply #9/],
      [{ score: 50, agentExecutionId: '00000000-0000-4000-8000-000000000000' }, 404, /Step attempt/],
      [{ score: 50, extra: true }, 400, /extra/],
    ];
    for (const [body, status, message] of cases) {
      const r = await api('POST', `/runs/${run.id}/scores`, body);
      expect(r.status, JSON.stringify({ body, got: r.body })).toBe(status);
      expect(JSON.stringify(r.body.error)).toMatch(message);
    }
    const missing = await api('POST', '/runs/00000000-0000-4000-8000-000000000000/scores', { score: 1 });
    expect(missing.status).toBe(404);

    // an API key without run:approve may read runs, not score them
    const key = await api('POST', '/api-keys', { name: 'reader', scopes: ['run:read'] });
    expect(key.status, JSON.stringify(key.body)).toBe(201);
    const byKey = await call(s, 'POST', `/api/v1/runs/${run.id}/scores`, {
      token: key.body.key,
      body: { thumbs: 'up' },
    });
    expect(byKey.status).toBe(403);
  });

  it('another organization can neither score nor see the scores (API and database RLS)', async () => {
    const run = await runWorkflow('private');
    expect((await api('POST', `/runs/${run.id}/scores`, { thumbs: 'up' })).status).toBe(201);
    const other = await signUp(s);
    expect((await api('POST', `/runs/${run.id}/scores`, { thumbs: 'down' }, other.token)).status).toBe(404);
    const seen = await s.database.db.withTenant(other.organizationId, (tx) =>
      queryRows<{ n: number }>(
        tx,
        sql`SELECT count(*)::int AS n FROM evaluation_results WHERE source = 'manual'`,
      ),
    );
    expect(seen[0]!.n).toBe(0);
    const mine = await s.database.db.withTenant(owner.organizationId, (tx) =>
      queryRows<{ n: number }>(
        tx,
        sql`SELECT count(*)::int AS n FROM evaluation_results WHERE workflow_execution_id = ${run.id}`,
      ),
    );
    expect(mine[0]!.n).toBe(1);
    const filtered = await api('GET', '/runs?passed=true&limit=500', undefined, other.token);
    expect(filtered.body.data).toEqual([]);
  });

  it('the runs list filters by score, passed and evaluator, and shows each run its scores', async () => {
    const good = await runWorkflow('good');
    const bad = await runWorkflow('bad');
    const mixed = await runWorkflow('mixed');
    const none = await runWorkflow('unscored');
    const score = async (runId: string, body: Record<string, unknown>) =>
      expect((await api('POST', `/runs/${runId}/scores`, body)).status).toBe(201);
    await score(good.id, { score: 90, name: 'accuracy' });
    await score(good.id, { thumbs: 'up', nodeId: 'reply' });
    await score(bad.id, { score: 20, name: 'accuracy' });
    await score(mixed.id, { score: 75, name: 'accuracy' });
    await score(mixed.id, { thumbs: 'down' });
    const ids = async (query: string) => {
      const r = await api('GET', `/runs?workflowId=${workflowId}&limit=500&${query}`);
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      const mine = new Set([good.id, bad.id, mixed.id, none.id]);
      return (r.body.data as { id: string }[]).map((x) => x.id).filter((id) => mine.has(id));
    };
    expect(await ids('passed=true')).toEqual([good.id]);
    expect(await ids('passed=false')).toEqual([mixed.id, bad.id]);
    expect(await ids('scoreMin=80')).toEqual([good.id]);
    expect(await ids('scoreMin=70&scoreMax=80')).toEqual([mixed.id]);
    expect(await ids('scoreMax=20&evaluator=accuracy')).toEqual([bad.id]);
    expect(await ids('evaluator=accuracy&passed=true')).toEqual([mixed.id, good.id]);
    expect(await ids('evaluator=human')).toEqual([mixed.id, good.id]);
    expect(await ids('evaluator=nobody')).toEqual([]);
    expect(await ids('')).toEqual([none.id, mixed.id, bad.id, good.id]);

    const page = await api('GET', `/runs?workflowId=${workflowId}&limit=500`);
    const byId = new Map((page.body.data as { id: string; scores: unknown }[]).map((r) => [r.id, r.scores]));
    expect(byId.get(good.id)).toEqual({ count: 2, mean: 95, failed: 0 });
    expect(byId.get(mixed.id)).toEqual({ count: 2, mean: 37.5, failed: 1 });
    expect(byId.get(none.id)).toBeNull();

    for (const [query, field] of [
      ['scoreMin=90&scoreMax=10', 'scoreMin'],
      ['scoreMin=-1', 'scoreMin'],
      ['scoreMax=101', 'scoreMax'],
      ['passed=maybe', 'passed'],
      [`evaluator=${'x'.repeat(256)}`, 'evaluator'],
    ] as const) {
      const r = await api('GET', `/runs?${query}`);
      expect(r.status, query).toBe(400);
      expect(JSON.stringify(r.body.error)).toContain(field);
    }
  });
});
