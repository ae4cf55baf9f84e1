import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { testDatabaseUrl } from '@aiops/config';
import { type Database, openDb, organizations } from '@aiops/db';
import { createSimulatorProvider, warmTokenizer } from '@aiops/providers';
import { createPostgresDatabase, dropPostgresDatabase, testBackend } from '@aiops/testing';
import { describe, expect, it } from 'vitest';
import { decideApproval } from './control.ts';
import { getRunDetail, Runs } from './runs.ts';
import { type EngineHarness, engineHarness } from './test-support.ts';
import { RunWatcher } from './watch.ts';
import { Worker } from './worker/worker.ts';
import { createWorkflow } from './workflows.ts';

describe(`waiting across a restart on ${testBackend()}`, () => {
  it('a run waiting for an approval survives a full restart of the server and completes after the decision', async () => {
    warmTokenizer();
    const admin = testDatabaseUrl();
    const dir = admin ? undefined : mkdtempSync(path.join(tmpdir(), 'aiops-restart-'));
    const url = admin ? await createPostgresDatabase(admin) : undefined;
    const open = () =>
      url
        ? openDb({ kind: 'postgres', url, migrate: false })
        : openDb({ kind: 'pglite', dataDir: path.join(dir!, 'data') });
    const boot = async () => {
      const db = await open();
      const worker = new Worker(db, createSimulatorProvider(), { pollMs: 20, sweepMs: 100 });
      await worker.start();
      return {
        db,
        worker,
        stop: async () => {
          await worker.stop(500);
          await db.close();
        },
      };
    };
    const orgId = randomUUID();
    try {
      let server: { db: Database; stop: () => Promise<void> } = await boot();
      await server.db.system((tx) =>
        tx
          .insert(organizations)
          .values({ id: orgId, name: 'R', slug: orgId, monthlyExecutionQuota: 1_000_000_000 }),
      );
      const wf = await server.db.withTenant(orgId, (tx) =>
        createWorkflow(tx, {
          organizationId: orgId,
          definition: {
            name: 'survivor',
            nodes: [
              { id: 'ask', type: 'approval', message: 'go?' },
              {
                id: 'after',
                type: 'agent',
                agent: { model: 'simulator:echo', prompt: 'approved by {{nodes.ask.output.decidedBy}}' },
              },
            ],
            connections: [{ from: 'ask', to: 'after' }],
          },
        }),
      );
      const run = await new Runs(server.db).start({ organizationId: orgId, workflowId: wf.id, input: {} });
      const detail = () => server.db.withTenant(orgId, (tx) => getRunDetail(tx, run.id));
      await expect
        .poll(async () => (await detail()).steps.find((s) => s.nodeId === 'ask')!.status, { timeout: 15_000 })
        .toBe('waiting');
      await server.stop();

      server = await boot();
      expect((await detail()).run.status).toBe('paused');
      await server.db.withTenant(orgId, (tx) =>
        decideApproval(tx, run.id, 'ask', { approved: true, decidedBy: 'user:after-restart' }),
      );
      const watcher = new RunWatcher(server.db);
      const done = await watcher.waitForFinal(orgId, run.id, 15_000);
      await watcher.close();
      expect(done.status).toBe('completed');
      expect(done.outputData).toBe('approved by user:after-restart');
      await server.stop();
    } finally {
      if (admin && url) await dropPostgresDatabase(admin, url);
      if (dir) rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe(`fan-out of 1,000 items on ${testBackend()}`, () => {
  let h: EngineHarness;
  it('parallelism 10 finishes with every result in order (simulator at 0 ms and at 50 ms)', async () => {
    h = await engineHarness();
    try {
      const items = Array.from({ length: 1000 }, (_, i) => i);
      for (const latencyMs of [0, 50]) {
        const wf = await h.createWorkflow({
          name: `fan-out-${latencyMs}`,
          input: { type: 'object', properties: { items: { type: 'array' } } },
          nodes: [
            {
              id: 'each',
              type: 'agent',
              agent: { model: 'simulator:echo', prompt: '#{{item}}', simulate: { latencyMs } },
              forEach: '{{input.items}}',
              parallelism: 10,
            },
          ],
        });
        const t0 = performance.now();
        const run = await h.wait(await h.start(wf, { items }), 60_000);
        const ms = performance.now() - t0;
        expect(run.status).toBe('completed');
        expect(run.outputData).toEqual(items.map((i) => `#${i}`));
        const ideal = (1000 / 10) * latencyMs;
        console.log(
          `fan-out 1000 items, parallelism 10, simulator ${latencyMs} ms (${testBackend()}): ${ms.toFixed(0)} ms (ideal ${ideal} ms)`,
        );
      }
    } finally {
      await h.close();
    }
  }, 120_000);
});
