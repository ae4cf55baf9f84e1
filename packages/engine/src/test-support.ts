import { randomUUID } from 'node:crypto';
import type { ModelPort } from '@aiops/core';
import { type Database, organizations } from '@aiops/db';
import { createEmbeddingPort, createSimulatorProvider, warmTokenizer } from '@aiops/providers';
import { createTestDatabase, type TestDatabase } from '@aiops/testing';
import { getRunDetail, type RunRow, Runs, type StartRunInput } from './runs.ts';
import type { WorkerOptions } from './types.ts';
import { RunWatcher } from './watch.ts';
import { Worker } from './worker/worker.ts';
import { createWorkflow } from './workflows.ts';

/** A test database with an organization, a worker on the simulator, and helpers to run workflows. */
export interface EngineHarness {
  t: TestDatabase;
  db: Database;
  orgId: string;
  runs: Runs;
  watcher: RunWatcher;
  workers: Worker[];
  /** Simulator calls by node id (the simulator echoes; this counts who called). */
  calls: Map<string, number>;
  model: ModelPort;
  createWorkflow(definition: unknown): Promise<string>;
  start(workflowId: string, input?: unknown, extra?: Partial<StartRunInput>): Promise<string>;
  run(
    definition: unknown,
    input?: unknown,
    timeoutMs?: number,
  ): Promise<{ run: RunRow; detail: Awaited<ReturnType<typeof getRunDetail>> }>;
  wait(runId: string, timeoutMs?: number): Promise<RunRow>;
  detail(runId: string): ReturnType<typeof getRunDetail>;
  addWorker(options?: Partial<WorkerOptions>): Promise<Worker>;
  close(): Promise<void>;
}

export async function engineHarness(
  options: { workers?: number; worker?: Partial<WorkerOptions>; poolSize?: number; now?: () => Date } = {},
): Promise<EngineHarness> {
  warmTokenizer();
  const t = await createTestDatabase({ poolSize: options.poolSize ?? 8 });
  const db = t.db;
  const orgId = randomUUID();
  await db.system((tx) =>
    tx.insert(organizations).values({
      id: orgId,
      name: 'Engine test',
      slug: `engine-${orgId}`,
      monthlyExecutionQuota: 1_000_000_000,
    }),
  );
  const simulator = createSimulatorProvider();
  const calls = new Map<string, number>();
  const model: ModelPort = {
    call(req) {
      const node = req.idempotencyKey.split(':')[1]!;
      calls.set(node, (calls.get(node) ?? 0) + 1);
      return simulator.call(req);
    },
  };
  const runs = new Runs(db, undefined, options.now);
  const watcher = new RunWatcher(db);
  const workers: Worker[] = [];
  const h: EngineHarness = {
    t,
    db,
    orgId,
    runs,
    watcher,
    workers,
    calls,
    model,
    async createWorkflow(definition) {
      const wf = await db.withTenant(orgId, (tx) =>
        createWorkflow(tx, { organizationId: orgId, definition, status: 'active' }),
      );
      return wf.id;
    },
    async start(workflowId, input = {}, extra = {}) {
      const r = await runs.start({ organizationId: orgId, workflowId, input, ...extra });
      return r.id;
    },
    wait: (runId, timeoutMs = 20_000) => watcher.waitForFinal(orgId, runId, timeoutMs),
    detail: (runId) => db.withTenant(orgId, (tx) => getRunDetail(tx, runId)),
    async run(definition, input = {}, timeoutMs = 20_000) {
      const id = await h.start(await h.createWorkflow(definition), input);
      const run = await h.wait(id, timeoutMs);
      return { run, detail: await h.detail(id) };
    },
    async addWorker(o = {}) {
      const w = new Worker(db, model, {
        pollMs: 50,
        sweepMs: 200,
        embeddings: createEmbeddingPort({ resolveIntegration: () => undefined }),
        ...options.worker,
        ...o,
      });
      await w.start();
      // As `aiops start` does: runs started here go straight to the first worker while it has capacity.
      if (!workers.length) {
        runs.useLocalWorker(w);
        w.reportTo(watcher);
      }
      workers.push(w);
      return w;
    },
    async close() {
      runs.useLocalWorker(undefined);
      for (const w of workers) await w.stop(1000);
      await watcher.close();
      await t.destroy();
    },
  };
  for (let i = 0; i < (options.workers ?? 1); i++) await h.addWorker();
  return h;
}
