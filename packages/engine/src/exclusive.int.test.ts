import type { ModelPort } from '@aiops/core';
import { createSimulatorProvider } from '@aiops/providers';
import { testBackend } from '@aiops/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { type EngineHarness, engineHarness } from './test-support.ts';
import { Worker } from './worker/worker.ts';

/** Several workers on one database never execute the same step attempt, nor one step twice at a time. */
describe(`several workers on ${testBackend()}`, () => {
  let h: EngineHarness;
  afterAll(() => h?.close());

  it('never run the same step attempt concurrently, and share the work', async () => {
    h = await engineHarness({ workers: 0, poolSize: 12 });
    const simulator = createSimulatorProvider();
    const calls = new Map<string, number>();
    const running = new Map<string, number>();
    let overlaps = 0;
    const byWorker = new Map<string, number>();
    const workers: Worker[] = [];
    // PGlite is one process with one connection: production runs one worker there; PostgreSQL runs several.
    const count = testBackend() === 'postgres' ? 4 : 1;
    for (let w = 0; w < count; w++) {
      const id = `excl-${w}`;
      const model: ModelPort = {
        async call(req) {
          const [run, node] = req.idempotencyKey.split(':');
          const step = `${run}:${node}`;
          calls.set(req.idempotencyKey, (calls.get(req.idempotencyKey) ?? 0) + 1);
          byWorker.set(id, (byWorker.get(id) ?? 0) + 1);
          if ((running.get(step) ?? 0) > 0) overlaps++;
          running.set(step, (running.get(step) ?? 0) + 1);
          try {
            return await simulator.call(req);
          } finally {
            running.set(step, running.get(step)! - 1);
          }
        },
      };
      const worker = new Worker(h.db, model, {
        workerId: id,
        concurrency: 8,
        claimBatch: 4,
        // Long enough that no lease expires on a loaded machine (CI saw a 2 s lease expire mid-step and the
        // step's second attempt run: 601 attempts, which is the engine's at-least-once guarantee at work, not
        // the overlap this test looks for; the lost-lease paths have their own tests).
        leaseMs: 15_000,
        pollMs: 20,
        sweepMs: 100,
      });
      await worker.start();
      workers.push(worker);
    }
    const wf = await h.createWorkflow({
      name: 'shared',
      nodes: ['a', 'b', 'c'].map((id) => ({
        id,
        type: 'agent',
        agent: { model: 'simulator:echo', prompt: id, simulate: { latencyMs: 5 } },
      })),
      connections: [
        { from: 'a', to: 'b' },
        { from: 'b', to: 'c' },
      ],
    });
    const ids: string[] = [];
    for (let i = 0; i < 200; i++) ids.push(await h.start(wf, { i }));
    for (const id of ids) expect((await h.wait(id, 60_000)).status).toBe('completed');
    for (const w of workers) await w.stop(1000);

    expect(calls.size).toBe(600);
    expect([...calls.values()].every((n) => n === 1)).toBe(true);
    expect(overlaps).toBe(0);
    if (testBackend() === 'postgres') {
      // Every worker took part.
      expect(byWorker.size).toBe(count);
    }
  }, 120_000);
});
