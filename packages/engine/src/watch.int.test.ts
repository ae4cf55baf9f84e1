import { randomUUID } from 'node:crypto';
import { queryRows, type Tx, workflowExecutions } from '@aiops/db';
import { testBackend } from '@aiops/testing';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunReader, readRuns } from './run-reader.ts';
import { getRun } from './run-rows.ts';
import { type EngineHarness, engineHarness } from './test-support.ts';
import { CHANNELS } from './types.ts';
import { RunWatcher } from './watch.ts';

const oneStep = (name: string) => ({
  name,
  nodes: [{ id: 'a', type: 'agent', agent: { model: 'simulator:echo', prompt: 'hi' } }],
  connections: [],
});

describe(`waiting for a run on ${testBackend()}`, () => {
  let h: EngineHarness;
  beforeAll(async () => {
    h = await engineHarness({ workers: 0 });
  });
  afterAll(() => h.close());

  it('a run that finishes while its first read is in flight is seen at once (no lost wake-up)', async () => {
    const runId = await h.start(await h.createWorkflow(oneStep('raced')));
    let watcher: RunWatcher | undefined;
    let hooked = false;
    let hookDone = 0;
    // The first read of the run returns its stale row only after the run has finished and every
    // notification about it has reached this process: exactly the window between "read" and "listen".
    const finishDuringRead = async () => {
      await h.addWorker();
      await expect
        .poll(async () => (await h.db.withTenant(h.orgId, (tx) => getRun(tx, runId))).status, {
          timeout: 15_000,
        })
        .toBe('completed');
      // A NOTIFY committed after the run's final one: once it arrives, every earlier one has arrived too.
      const marker = `fence-${randomUUID()}`;
      let fenced: () => void = () => {};
      const fence = new Promise<void>((resolve) => {
        fenced = resolve;
      });
      const unlisten = await h.db.listen(CHANNELS.runEvents, (payload) => {
        if (payload.includes(marker)) fenced();
      });
      await h.db.system((tx) =>
        tx.execute(sql`SELECT pg_notify(${CHANNELS.runEvents}, ${JSON.stringify([marker])})`),
      );
      await fence;
      await unlisten();
    };
    // Runs are read in one statement (`readRuns`: SELECT * FROM aiops_read_runs(…)): hook that read.
    const db = new Proxy(h.db, {
      get(target, prop, receiver) {
        if (prop !== 'statement') return Reflect.get(target, prop, receiver);
        return async <T>(query: Parameters<typeof target.statement>[0]) => {
          const result = await target.statement<T>(query);
          if (!hooked && JSON.stringify(query).includes('aiops_read_runs')) {
            hooked = true;
            await finishDuringRead();
            hookDone = Date.now();
          }
          return result;
        };
      },
    });
    // No poll within the wait: only a notification can end it early.
    watcher = new RunWatcher(db, 60_000);
    try {
      const run = await watcher.waitForFinal(h.orgId, runId, 20_000);
      expect(hooked).toBe(true);
      expect(run.status).toBe('completed');
      // Without the wake-up it would sleep until the 20 s deadline.
      expect(Date.now() - hookDone).toBeLessThan(5_000);
    } finally {
      await watcher.close();
    }
  }, 60_000);

  it('a run finished by the local worker is handed over by its completion batch: no read while waiting', async () => {
    const w = await h.addWorker();
    let reads = 0;
    // The watcher reads with one statement (`db.db`, RunReader) or in a transaction.
    const db = new Proxy(h.db, {
      get(target, prop, receiver) {
        if (prop === 'db' || prop === 'withTenant' || prop === 'system') reads++;
        return Reflect.get(target, prop, receiver);
      },
    });
    const watcher = new RunWatcher(db, 60_000);
    h.runs.useLocalWorker(w);
    w.reportTo(watcher);
    try {
      (await watcher.watch('none', () => {}))();
      const wf = await h.createWorkflow({
        name: 'three handed over',
        nodes: ['a', 'b', 'c'].map((id) => ({
          id,
          type: 'agent',
          agent: { model: 'simulator:echo', prompt: id },
        })),
        connections: [
          { from: 'a', to: 'b' },
          { from: 'b', to: 'c' },
        ],
      });
      for (let i = 0; i < 3; i++) {
        const startedAt = Date.now();
        const runId = await h.start(wf);
        const run = await watcher.waitForFinal(h.orgId, runId, 20_000, startedAt);
        expect(run.status).toBe('completed');
        expect(run.id).toBe(runId);
        // The row the worker read once its completion batch committed is the final row, decoded as a select's.
        const [selected] = await h.db.withTenant(h.orgId, (tx) =>
          tx.select().from(workflowExecutions).where(eq(workflowExecutions.id, runId)),
        );
        expect(run).toEqual(selected);
      }
      // Neither the notifications of its two open steps nor its end made the waiting call read the run.
      expect(reads).toBe(0);
    } finally {
      w.reportTo(undefined);
      h.runs.useLocalWorker(h.workers[0]);
      await watcher.close();
    }
  }, 60_000);

  it('concurrent reads of runs share statements; an unknown run is not found', async () => {
    const wf = await h.createWorkflow(oneStep('read together'));
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push(await h.start(wf, { i }));
    let statements = 0;
    let transactions = 0;
    const db = new Proxy(h.db, {
      get(target, prop, receiver) {
        if (prop === 'statement') statements++;
        if (prop === 'withTenant' || prop === 'system') transactions++;
        return Reflect.get(target, prop, receiver);
      },
    });
    const reader = new RunReader(db);
    const rows = await Promise.all([...ids, ids[0]!].map((id) => reader.read(h.orgId, id)));
    expect(rows.map((r) => r.id)).toEqual([...ids, ids[0]]);
    expect(rows.every((r) => r.organizationId === h.orgId)).toBe(true);
    // The first read goes alone; the six that queued behind it share one more. No transaction.
    expect(statements).toBe(2);
    expect(transactions).toBe(0);
    await expect(reader.read(h.orgId, randomUUID())).rejects.toMatchObject({ status: 404 });
  });

  it('readRuns decodes a run as the table select does, and shows it only within its organization', async () => {
    if (!h.workers.length) await h.addWorker();
    const runId = await h.start(await h.createWorkflow(oneStep('read in one statement')), { n: 1 });
    const run = await h.wait(runId);
    expect(run.status).toBe('completed');
    const [selected] = await h.db.withTenant(h.orgId, (tx) =>
      tx.select().from(workflowExecutions).where(eq(workflowExecutions.id, runId)),
    );
    const [read] = await readRuns(h.db, h.orgId, [runId]);
    expect(read).toEqual(selected);
    expect(read!.completedAt).toBeInstanceOf(Date);
    // Any organization's runs for the worker (no tenant, no organization given); none of another's.
    const other = randomUUID();
    expect((await readRuns(h.db, null, [runId, randomUUID()])).map((r) => r.id)).toEqual([runId]);
    expect(await readRuns(h.db, other, [runId])).toEqual([]);
    // The function inside another tenant's transaction: the tenant wins over what the caller asks.
    const ids = (tx: Tx, org: string | null) =>
      queryRows<{ id: string }>(
        tx,
        sql`SELECT id FROM aiops_read_runs(${org}::uuid, ${`{${runId}}`}::uuid[])`,
      );
    expect(await h.db.withTenant(other, (tx) => ids(tx, null))).toEqual([]);
    expect(await h.db.withTenant(other, (tx) => ids(tx, h.orgId))).toEqual([]);
    expect(await h.db.withTenant(h.orgId, (tx) => ids(tx, null))).toEqual([{ id: runId }]);
  });

  it('answers the current row at once when asked not to wait', async () => {
    const runId = await h.start(await h.createWorkflow(oneStep('no wait')));
    const run = await new RunWatcher(h.db, 60_000).waitForFinal(h.orgId, runId, 0);
    expect(run.id).toBe(runId);
  });
});
