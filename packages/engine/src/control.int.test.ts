import { queryRows } from '@aiops/db';
import { testBackend } from '@aiops/testing';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decideApproval, pauseRun, resumeRun, retryRun } from './control.ts';
import { cancelRun } from './runs.ts';
import { type EngineHarness, engineHarness } from './test-support.ts';

let h: EngineHarness;
beforeAll(async () => {
  // Heartbeats every 50 ms: a paused run's step in flight meets several before it finishes.
  h = await engineHarness({ worker: { sweepMs: 100, heartbeatMs: 50 } });
});
afterAll(() => h?.close());

const echo = (id: string, prompt: string, extra: Record<string, unknown> = {}) => ({
  id,
  type: 'agent',
  agent: { model: 'simulator:echo', prompt, ...extra },
});
const tenant = <T>(fn: (tx: Parameters<Parameters<EngineHarness['db']['withTenant']>[1]>[0]) => Promise<T>) =>
  h.db.withTenant(h.orgId, fn);
const status = async (runId: string) => (await h.detail(runId)).run.status;
const stepStatus = async (runId: string, node: string) =>
  (await h.detail(runId)).steps.find((s) => s.nodeId === node)!.status;

describe(`approvals on ${testBackend()}`, () => {
  const def = (name: string, extra: Record<string, unknown> = {}) => ({
    name,
    nodes: [
      echo('draft', 'Draft for {{input.customer}}'),
      { id: 'approve', type: 'approval', message: 'Send "{{nodes.draft.output}}"?', ...extra },
      echo('send', 'Sent: {{nodes.draft.output}} ({{nodes.approve.output.comment}})'),
    ],
    connections: [
      { from: 'draft', to: 'approve' },
      { from: 'approve', to: 'send', condition: 'nodes.approve.output.approved' },
    ],
  });

  it('waits (run paused, step waiting, no worker held) until approved, then continues with the decision', async () => {
    const wf = await h.createWorkflow(def('approval-ok'));
    const id = await h.start(wf, { customer: 'ACME' });
    await expect.poll(() => stepStatus(id, 'approve'), { timeout: 10_000 }).toBe('waiting');
    expect(await status(id)).toBe('paused');
    expect(h.workers[0]!.stats.executing).toBe(0);
    const d = await tenant((tx) =>
      decideApproval(tx, id, 'approve', { approved: true, comment: 'ship it', decidedBy: 'user:1' }),
    );
    expect(d.decision).toMatchObject({ approved: true, comment: 'ship it', decidedBy: 'user:1' });
    const run = await h.wait(id);
    expect(run.status).toBe('completed');
    expect(run.outputData).toBe('Sent: Draft for ACME (ship it)');
    const approve = (await h.detail(id)).attempts.find((a) => a.nodeId === 'approve')!;
    expect(approve.output).toMatchObject({ approved: true, decidedBy: 'user:1', timedOut: false });
    expect(approve.attempt).toBe(1);
    await expect(
      tenant((tx) => decideApproval(tx, id, 'approve', { approved: false, decidedBy: 'x' })),
    ).rejects.toMatchObject({
      code: 'not_waiting_for_approval',
    });
  });

  it('a rejection fails the run by default, or lets conditions route it with onReject: continue', async () => {
    const failing = await h.start(await h.createWorkflow(def('approval-no')), { customer: 'A' });
    await expect.poll(() => stepStatus(failing, 'approve'), { timeout: 10_000 }).toBe('waiting');
    await tenant((tx) =>
      decideApproval(tx, failing, 'approve', { approved: false, comment: 'too rude', decidedBy: 'user:2' }),
    );
    const r1 = await h.wait(failing);
    expect(r1.status).toBe('failed');
    expect(r1.errorCode).toBe('approval_rejected');
    expect(r1.errorMessage).toMatch(/too rude/);

    const routed = await h.start(await h.createWorkflow(def('approval-route', { onReject: 'continue' })), {
      customer: 'B',
    });
    await expect.poll(() => stepStatus(routed, 'approve'), { timeout: 10_000 }).toBe('waiting');
    await tenant((tx) => decideApproval(tx, routed, 'approve', { approved: false, decidedBy: 'user:2' }));
    const r2 = await h.wait(routed);
    expect(r2.status).toBe('completed');
    expect(await stepStatus(routed, 'send')).toBe('skipped');
  });

  it('times out with the default decision', async () => {
    const id = await h.start(
      await h.createWorkflow(def('approval-timeout', { timeoutMs: 300, defaultDecision: 'approved' })),
      { customer: 'C' },
    );
    const run = await h.wait(id, 15_000);
    expect(run.status).toBe('completed');
    const approve = (await h.detail(id)).attempts.find((a) => a.nodeId === 'approve')!;
    expect(approve.output).toMatchObject({ approved: true, timedOut: true, decidedBy: 'system' });
  });
});

describe(`pause, resume, retry on ${testBackend()}`, () => {
  it('pausing lets the running step finish and starts nothing new until resumed', async () => {
    const wf = await h.createWorkflow({
      name: 'pausable',
      nodes: [echo('a', 'a', { simulate: { latencyMs: 400 } }), echo('b', 'b')],
      connections: [{ from: 'a', to: 'b' }],
    });
    const id = await h.start(wf);
    await expect.poll(() => stepStatus(id, 'a'), { timeout: 10_000 }).toBe('running');
    const pausedFrom = Date.now() - 5000; // the database's clock may be slightly behind
    const paused = await tenant((tx) => pauseRun(tx, id));
    expect(paused.status).toBe('paused');
    expect(paused.pausedAt!.getTime()).toBeGreaterThanOrEqual(pausedFrom);
    await expect.poll(() => stepStatus(id, 'a'), { timeout: 10_000 }).toBe('completed');
    await new Promise((r) => setTimeout(r, 400));
    expect(await stepStatus(id, 'b')).toBe('ready');
    expect(await status(id)).toBe('paused');
    const resumed = await tenant((tx) => resumeRun(tx, id));
    expect(resumed.resumedAt!.getTime()).toBeGreaterThanOrEqual(paused.pausedAt!.getTime());
    expect((await h.wait(id)).status).toBe('completed');
    await expect(tenant((tx) => pauseRun(tx, id))).rejects.toMatchObject({ code: 'invalid_transition' });
  });

  it('retry restarts a failed run from its failed step, keeping completed outputs', async () => {
    const wf = await h.createWorkflow({
      name: 'retry-me',
      nodes: [
        echo('first', 'one'),
        echo('flaky', 'two', { simulate: { failTimes: 1, failWith: 'fatal' } }),
        echo('last', '{{nodes.first.output}}+{{nodes.flaky.output}}'),
      ],
      connections: [
        { from: 'first', to: 'flaky' },
        { from: 'flaky', to: 'last' },
      ],
    });
    const id = await h.start(wf);
    expect((await h.wait(id)).status).toBe('failed');
    const before = h.calls.get('first');
    const { compiled } = { compiled: await tenant((tx) => h.runs.catalog.version(tx, wf, 1)) };
    const retried = await tenant((tx) => retryRun(tx, id, compiled, 60_000));
    expect(retried).toMatchObject({ status: 'pending', retryCount: 1 });
    const run = await h.wait(id);
    expect(run.status).toBe('completed');
    expect(run.outputData).toBe('one+two');
    expect(h.calls.get('first')).toBe(before);
    const flaky = (await h.detail(id)).attempts
      .filter((a) => a.nodeId === 'flaky')
      .map((a) => [a.attempt, a.status]);
    expect(flaky).toEqual([
      [1, 'failed'],
      [2, 'completed'],
    ]);
    await expect(tenant((tx) => retryRun(tx, id, compiled, 60_000))).rejects.toMatchObject({
      code: 'invalid_transition',
    });
  });

  it('re-run from a middle step reuses upstream outputs (not called again) and can edit that step’s input', async () => {
    const wf = await h.createWorkflow({
      name: 'rerun-me',
      nodes: [
        echo('fetch', 'data for {{input.q}}'),
        echo('summarize', 'Summary of {{nodes.fetch.output}}'),
        { id: 'out', type: 'output', value: '{{nodes.summarize.output}}' },
      ],
      connections: [
        { from: 'fetch', to: 'summarize' },
        { from: 'summarize', to: 'out' },
      ],
    });
    const first = await h.wait(await h.start(wf, { q: 'cats' }));
    expect(first.outputData).toBe('Summary of data for cats');
    const fetchCalls = h.calls.get('fetch');
    const summarizeCalls = h.calls.get('summarize')!;
    const again = await h.runs.rerun({
      organizationId: h.orgId,
      runId: first.id,
      fromStep: 'summarize',
      input: { prompt: 'Shorter: data for cats' },
    });
    const rerun = await h.wait(again.id);
    expect(rerun.status).toBe('completed');
    expect(rerun.outputData).toBe('Shorter: data for cats');
    expect(rerun.rerunOfExecutionId).toBe(first.id);
    expect(rerun.correlationId).toBe(first.correlationId);
    expect(h.calls.get('fetch')).toBe(fetchCalls);
    expect(h.calls.get('summarize')).toBe(summarizeCalls + 1);
    const steps = (await h.detail(again.id)).steps;
    expect(steps.find((s) => s.nodeId === 'fetch')).toMatchObject({
      status: 'completed',
      output: 'data for cats',
    });
    await expect(
      h.runs.rerun({ organizationId: h.orgId, runId: first.id, fromStep: 'nope' }),
    ).rejects.toMatchObject({ code: 'unknown_step' });
  });
});

describe(`sub-workflows, fan-out and delays on ${testBackend()}`, () => {
  it('a sub-workflow node runs a child run and takes its output; nesting works; cancelling the parent cancels children', async () => {
    const leaf = await h.createWorkflow({
      name: 'leaf',
      nodes: [echo('x', 'leaf got {{input.v}}', { simulate: { latencyMs: 50 } })],
    });
    const middle = await h.createWorkflow({
      name: 'middle',
      nodes: [{ id: 'call', type: 'subworkflow', workflowId: leaf, input: { v: '{{input.v}}!' } }],
    });
    const top = await h.createWorkflow({
      name: 'top',
      nodes: [
        { id: 'call', type: 'subworkflow', workflowId: middle, input: { v: '{{input.v}}' } },
        { id: 'out', type: 'output', value: { got: '{{nodes.call.output}}' } },
      ],
      connections: [{ from: 'call', to: 'out' }],
    });
    const run = await h.wait(await h.start(top, { v: 'hi' }));
    expect(run.status).toBe('completed');
    expect(run.outputData).toEqual({ got: 'leaf got hi!' });
    const children = await h.db.system((tx) =>
      queryRows<{ id: string; depth: number }>(
        tx,
        sql`SELECT id, (metadata->>'depth')::int AS depth FROM workflow_executions WHERE correlation_id = ${run.correlationId} AND id <> ${run.id} ORDER BY 2`,
      ),
    );
    expect(children.map((c) => c.depth)).toEqual([1, 2]);

    const slowLeaf = await h.createWorkflow({
      name: 'slow-leaf',
      nodes: [echo('x', 'x', { simulate: { latencyMs: 10_000 } })],
    });
    const slowTop = await h.createWorkflow({
      name: 'slow-top',
      nodes: [{ id: 'call', type: 'subworkflow', workflowId: slowLeaf }],
    });
    const id = await h.start(slowTop);
    await expect.poll(() => stepStatus(id, 'call'), { timeout: 10_000 }).toBe('waiting');
    await tenant((tx) => cancelRun(tx, id));
    const kids = await h.db.system((tx) =>
      queryRows<{ status: string }>(
        tx,
        sql`SELECT status FROM workflow_executions WHERE parent_execution_id = ${id}`,
      ),
    );
    expect(kids.map((k) => k.status)).toEqual(['cancelled']);
  });

  it('refuses nesting deeper than the limit with a clear error', async () => {
    const self = await h.createWorkflow({ name: 'recursive', nodes: [echo('x', 'x')] });
    await tenant((tx) =>
      tx.execute(sql`UPDATE workflow_versions SET definition = ${JSON.stringify({ name: 'recursive', nodes: [{ id: 'again', type: 'subworkflow', workflowId: self }], connections: [] })}::jsonb,
                     graph = '{"out":{"again":[]},"result":["again"]}'::jsonb WHERE workflow_id = ${self}`),
    );
    const run = await h.wait(await h.start(self), 30_000);
    expect(run.status).toBe('failed');
    const deepest = await h.db.system((tx) =>
      queryRows<{ error_code: string }>(
        tx,
        sql`SELECT error_code FROM workflow_executions WHERE correlation_id = ${run.correlationId} AND error_code = 'subworkflow_depth_exceeded'`,
      ),
    );
    expect(deepest).toHaveLength(1);
  });

  it('fans out over a list with a parallelism limit and gathers results in order; continueOnError collects errors', async () => {
    const wf = await h.createWorkflow({
      name: 'fan-out',
      nodes: [{ ...echo('each', 'item {{index}}: {{item}}'), forEach: '{{input.items}}', parallelism: 3 }],
    });
    const items = Array.from({ length: 20 }, (_, i) => `v${i}`);
    const run = await h.wait(await h.start(wf, { items }));
    expect(run.outputData).toEqual(items.map((v, i) => `item ${i}: ${v}`));
    const attempt = (await h.detail(run.id)).attempts[0]!;
    expect(attempt.totalTokens).toBeGreaterThan(20);

    const bad = await h.createWorkflow({
      name: 'fan-out-bad',
      nodes: [{ ...echo('each', '{{item}}'), forEach: '{{input.n}}' }],
    });
    const r = await h.wait(await h.start(bad, { n: 5 }));
    expect(r.errorCode).toBe('for_each_not_a_list');
  });

  it('a delay node waits without holding a worker', async () => {
    const wf = await h.createWorkflow({
      name: 'sleepy',
      nodes: [{ id: 'nap', type: 'delay', durationMs: 600 }, echo('after', 'awake')],
      connections: [{ from: 'nap', to: 'after' }],
    });
    const t0 = Date.now();
    const id = await h.start(wf);
    await expect.poll(() => stepStatus(id, 'nap'), { timeout: 10_000 }).toBe('waiting');
    expect(h.workers[0]!.stats.executing).toBe(0);
    const run = await h.wait(id);
    expect(run.status).toBe('completed');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(600);
  });
});
