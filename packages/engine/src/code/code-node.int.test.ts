import { randomUUID } from 'node:crypto';
import { PLANS } from '@aiops/core';
import { organizations, type Tx } from '@aiops/db';
import { testBackend } from '@aiops/testing';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLogs } from '../observability/read.ts';
import { Runs } from '../runs.ts';
import { type EngineHarness, engineHarness } from '../test-support.ts';
import { createWorkflow } from '../workflows.ts';
import { CodeSandbox } from './sandbox.ts';

const sandbox = new CodeSandbox(2);
let h: EngineHarness;
beforeAll(async () => {
  h = await engineHarness({ worker: { codeSandbox: sandbox } });
});
afterAll(async () => {
  await h?.close();
  await sandbox.close();
});

const tenant = <T>(orgId: string, fn: (tx: Tx) => Promise<T>) => h.db.withTenant(orgId, fn);

describe(`code nodes in workflows on ${testBackend()}`, () => {
  it('runs a TypeScript code node on upstream outputs; its console lines are in the execution logs', async () => {
    const { run, detail } = await h.run(
      {
        name: 'code',
        variables: { factor: 3 },
        nodes: [
          { id: 'first', type: 'code', code: 'return { n: input.n }' },
          {
            id: 'calc',
            type: 'code',
            language: 'typescript',
            code: 'const n: number = Number(nodes.first.output.n);\nconsole.log("n is", n);\nreturn { result: n * variables.factor, id: crypto.randomUUID().length };',
          },
          { id: 'out', type: 'output', value: '{{nodes.calc.output.result}}' },
        ],
        connections: [
          { from: 'first', to: 'calc' },
          { from: 'calc', to: 'out' },
        ],
      },
      { n: 7 },
    );
    expect(detail.attempts.map((a) => [a.nodeId, a.status, a.errorDetails ?? null])).toEqual([
      ['first', 'completed', null],
      ['calc', 'completed', null],
      ['out', 'completed', null],
    ]);
    expect(run.status).toBe('completed');
    const calc = detail.steps.find((s) => s.nodeId === 'calc')!;
    expect(calc.output).toEqual({ result: 21, id: 36 });
    expect(run.outputData).toBe(21);
    const { logs } = await tenant(h.orgId, (tx) => runLogs(tx, run.id, { stepId: 'calc' }));
    const messages = logs.map((l) => l.message);
    expect(messages).toContain('n is 7');
    expect(
      messages.some((m) => /^Code ran in [\d.]+ ms \(CPU [\d.]+ ms, \d+ bytes of memory\)$/.test(m)),
    ).toBe(true);
  });

  it('a runaway loop fails its step with code_timeout once (not retried); the worker keeps running steps', async () => {
    await h.db.system((tx) =>
      tx.execute(sql`UPDATE organizations SET subscription_tier = 'starter' WHERE id = ${h.orgId}`),
    );
    const { run, detail } = await h.run(
      {
        name: 'runaway',
        nodes: [
          { id: 'spin', type: 'code', code: 'for (;;) {}', retry: { maxAttempts: 3, initialDelayMs: 1 } },
        ],
        connections: [],
      },
      {},
      60_000,
    );
    expect(run.status).toBe('failed');
    const attempts = detail.attempts.filter((a) => a.nodeId === 'spin');
    expect(attempts).toHaveLength(1);
    expect(attempts[0]!.errorDetails).toMatchObject({ code: 'code_timeout', retryable: false });
    expect(String((attempts[0]!.errorDetails as { message?: string }).message)).toContain(
      `${PLANS.starter.resources.code.cpuMs} ms of CPU time`,
    );
    const after = await h.run({
      name: 'after',
      nodes: [{ id: 'c', type: 'code', code: 'return 5' }],
      connections: [],
    });
    expect(after.run.status).toBe('completed');
    expect(after.detail.steps[0]!.output).toBe(5);
  });

  it("each organization's tier sets its limits: a 100 MB step fails on starter and runs on professional", async () => {
    const pro = randomUUID();
    await h.db.system((tx) =>
      tx.insert(organizations).values({
        id: pro,
        name: 'Pro org',
        slug: `pro-${pro}`,
        subscriptionTier: 'professional',
        monthlyExecutionQuota: 1_000_000,
      }),
    );
    const definition = {
      name: 'big',
      nodes: [
        {
          id: 'alloc',
          type: 'code',
          code: 'const keep = []; for (let i = 0; i < 100; i++) keep.push(new Float64Array(131072)); return keep.length',
        },
      ],
      connections: [],
    };
    const starter = await h.run(definition, {}, 60_000);
    expect(starter.run.status).toBe('failed');
    expect(starter.detail.attempts[0]!.errorDetails).toMatchObject({
      code: 'code_memory_exceeded',
      retryable: false,
    });
    const runs = new Runs(h.db);
    const wf = await tenant(pro, (tx) =>
      createWorkflow(tx, { organizationId: pro, definition, status: 'active' }),
    );
    const started = await runs.start({ organizationId: pro, workflowId: wf.id, input: {} });
    // The professional class needs threads of its own (a larger WebAssembly memory), started now. On a
    // loaded CI machine starting them has taken over 20 s, and once this step was still not done after
    // 60 s: the wait is generous, and a failure says whether the job was queued or running.
    const done = await h.watcher.waitForFinal(pro, started.id, 150_000);
    expect(done.status, `sandbox ${JSON.stringify(sandbox.stats())}`).toBe('completed');
  }, 180_000);

  it('network is refused on a tier without it, before the code runs', async () => {
    const { run, detail } = await h.run({
      name: 'net',
      nodes: [
        {
          id: 'get',
          type: 'code',
          code: 'return (await fetch("https://api.example.com/")).status',
          network: { allowedHosts: ['api.example.com'] },
        },
      ],
      connections: [],
    });
    expect(run.status).toBe('failed');
    expect(detail.attempts[0]!.errorDetails).toMatchObject({
      code: 'code_network_not_allowed',
      retryable: false,
    });
  });
});
