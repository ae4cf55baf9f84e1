import { queryRows } from '@aiops/db';
import { Worker } from '@aiops/engine';
import { createEmbeddingPort } from '@aiops/providers';
import { testBackend } from '@aiops/testing';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type SignedUp, signUp, startTestServer, type TestServer } from '../../test-support.ts';
import { makeEvaluationEmbedder } from '../evaluations/similarity.ts';
import { ExperimentLoop, itemRunKey } from './driver.ts';

/**
 * An experiment is a set of engine runs: stopping the step worker and the experiment loop in the middle
 * (with an item's run started but not yet recorded, as when a process dies between the two) and starting
 * new ones on the same database finishes it with exactly one run per item.
 */
let s: TestServer;
let owner: SignedUp;
let worker2: Worker | undefined;
let loop2: ExperimentLoop | undefined;

const api = (method: string, path: string, body?: unknown) =>
  call(s, method, `/api/v1${path}`, { token: owner.token, ...(body === undefined ? {} : { body }) });

const deps = () => ({
  db: s.database.db,
  runs: s.app.engine.runs,
  model: s.app.engine.model,
  embed: makeEvaluationEmbedder(s.database.db, createEmbeddingPort({ resolveIntegration: () => undefined })),
});

beforeAll(async () => {
  s = await startTestServer({ worker: true });
  owner = await signUp(s);
}, 240_000);
afterAll(async () => {
  await loop2?.stop();
  await worker2?.stop(1000);
  await s?.close();
});

describe(`experiments survive a worker restart on ${testBackend()}`, () => {
  it('finishes every item once after the worker and the experiment loop are replaced mid-experiment', async () => {
    const wf = await api('POST', '/workflows', {
      status: 'active',
      definition: {
        name: 'slow answers',
        input: { type: 'object', properties: { q: { type: 'string' } } },
        nodes: [
          { id: 'wait', type: 'delay', durationMs: 400 },
          { id: 'out', type: 'output', value: 'Refund for {{input.q}}' },
        ],
        connections: [{ from: 'wait', to: 'out' }],
      },
    });
    expect(wf.status, JSON.stringify(wf.body)).toBe(201);
    const ev = await api('POST', '/evaluators', {
      name: 'mentions refund',
      kind: 'rule',
      config: { rule: 'contains', value: 'refund' },
    });
    const ds = await api('POST', '/datasets', { name: 'six' });
    const items = await api('POST', `/datasets/${ds.body.id}/items`, {
      items: ['a', 'b', 'c', 'd', 'e', 'f'].map((q) => ({ input: { q } })),
    });
    expect(items.status).toBe(201);
    const exp = await api('POST', '/experiments', {
      datasetId: ds.body.id,
      workflowId: wf.body.id,
      evaluatorIds: [ev.body.id],
      parallelism: 2,
    });
    expect(exp.status, JSON.stringify(exp.body)).toBe(201);
    const id = exp.body.id as string;

    const loop1 = new ExperimentLoop(deps(), 100, { leaseMs: 1_500 });
    loop1.start();
    const deadline = Date.now() + 120_000;
    for (;;) {
      const r = await api('GET', `/experiments/${id}`);
      if (r.body.doneItems >= 1) break;
      if (Date.now() > deadline) throw new Error('no item finished');
      await new Promise((res) => setTimeout(res, 50));
    }
    // The crash: the loop and the step worker go away with runs in flight and the lease held.
    await loop1.stop();
    await s.worker!.stop(0);
    const mid = await api('GET', `/experiments/${id}`);
    expect(mid.body.status).toBe('running');
    expect(mid.body.doneItems).toBeLessThan(6);

    // A process that died right after starting an item's run, before recording it.
    const pending = await s.database.db.system((tx) =>
      queryRows<{ id: string; input: unknown }>(
        tx,
        sql`SELECT i.id, d.input FROM experiment_items i JOIN dataset_items d ON d.id = i.dataset_item_id
            WHERE i.experiment_id = ${id} AND i.status = 'pending' ORDER BY i.position DESC LIMIT 1`,
      ),
    );
    expect(pending).toHaveLength(1);
    const orphan = await s.app.engine.runs.start({
      organizationId: owner.organizationId,
      workflowId: wf.body.id,
      version: 1,
      input: pending[0]!.input,
      idempotencyKey: itemRunKey(pending[0]!.id),
    });

    worker2 = new Worker(s.database.db, s.app.engine.model, {
      embeddings: createEmbeddingPort({ resolveIntegration: () => undefined }),
      pollMs: 20,
      sweepMs: 200,
    });
    await worker2.start();
    loop2 = new ExperimentLoop(deps(), 100, { leaseMs: 1_500 });
    loop2.start();
    let done: Record<string, unknown> & { status: string; doneItems: number; aggregates: unknown[] };
    for (;;) {
      const r = await api('GET', `/experiments/${id}`);
      done = r.body;
      if (done.status !== 'running') break;
      if (Date.now() > deadline) throw new Error(`experiment still running: ${JSON.stringify(done)}`);
      await new Promise((res) => setTimeout(res, 100));
    }
    expect(done.status).toBe('completed');
    expect(done.doneItems).toBe(6);
    expect(done.aggregates).toEqual([
      { evaluatorId: ev.body.id, name: 'mentions refund', mean: 100, p50: 100, passRate: 1, scored: 6 },
    ]);
    const scored = await api('GET', `/experiments/${id}/items`);
    const runIds = scored.body.data.map((i: { runId: string }) => i.runId);
    expect(new Set(runIds).size).toBe(6);
    expect(scored.body.data.find((i: { id: string }) => i.id === pending[0]!.id).runId).toBe(orphan.id);
    expect(scored.body.data.map((i: { output: unknown }) => i.output)).toEqual(
      ['a', 'b', 'c', 'd', 'e', 'f'].map((q) => `Refund for ${q}`),
    );
    const [runs] = await s.database.db.system((tx) =>
      queryRows<{ n: number }>(
        tx,
        sql`SELECT count(*)::int AS n FROM workflow_executions WHERE idempotency_key LIKE 'experiment:%'
            AND idempotency_key IN (SELECT 'experiment:' || id::text FROM experiment_items WHERE experiment_id = ${id})`,
      ),
    );
    expect(runs!.n).toBe(6);
  }, 240_000);
});
