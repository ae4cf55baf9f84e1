import { eventSinks, queryRows } from '@aiops/db';
import { testBackend } from '@aiops/testing';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decideApproval } from './control.ts';
import { type EngineHarness, engineHarness } from './test-support.ts';

interface OutboxRow {
  type: string;
  subject_id: string;
  payload: Record<string, unknown>;
}

/**
 * The outbox rows the engine's tables write by trigger (migration 0043: statement triggers over transition
 * tables): which events, in which order, with which payloads, for batches of many rows at once.
 */
describe(`outbox events and ledger rows written by the engine's triggers on ${testBackend()}`, () => {
  let h: EngineHarness;
  beforeAll(async () => {
    h = await engineHarness({ workers: 0 });
  });
  afterAll(() => h?.close());

  const outbox = (runIds: string[]) =>
    h.db.system((tx) =>
      queryRows<OutboxRow>(
        tx,
        sql`SELECT type, subject_id::text, payload FROM event_outbox
            WHERE subject_id = ANY(${`{${runIds.join(',')}}`}::uuid[]) ORDER BY seq`,
      ),
    );

  it('a batch of 300 runs: each run gets workflow_started, agent_task_completed per step and workflow_finished, in order', async () => {
    const wf = await h.createWorkflow({
      name: 'two',
      nodes: [
        { id: 'a', type: 'agent', agent: { model: 'simulator:echo', prompt: 'x' } },
        { id: 'b', type: 'agent', agent: { model: 'simulator:echo', prompt: '{{nodes.a.output}}' } },
      ],
      connections: [{ from: 'a', to: 'b' }],
    });
    const ids: string[] = [];
    for (let i = 0; i < 300; i++) ids.push(await h.start(wf, {}));
    await h.addWorker({ claimBatch: 300, concurrency: 300 });
    for (const id of ids) expect((await h.wait(id, 60_000)).status).toBe('completed');
    const rows = await outbox(ids);
    const byRun = new Map<string, OutboxRow[]>();
    for (const r of rows) byRun.set(r.subject_id, [...(byRun.get(r.subject_id) ?? []), r]);
    expect(byRun.size).toBe(300);
    for (const id of ids) {
      const events = byRun.get(id)!;
      expect(events.map((e) => `${e.type}${e.payload.nodeId ? `:${e.payload.nodeId}` : ''}`)).toEqual([
        'workflow_started',
        'agent_task_completed:a',
        'agent_task_completed:b',
        'workflow_finished',
      ]);
      expect(events[0]!.payload).toMatchObject({ runId: id, workflowId: wf, status: 'pending' });
      expect(events[0]!.payload).not.toHaveProperty('totalTokens');
      expect(events[1]!.payload).toMatchObject({
        runId: id,
        nodeType: 'agent',
        attempt: 1,
        status: 'completed',
      });
      expect(events[3]!.payload).toMatchObject({ runId: id, status: 'completed' });
      expect(Number(events[3]!.payload.totalTokens)).toBeGreaterThan(0);
    }
    // The ledger rows written by the attempts' statement trigger name the run's workflow (read by its key).
    const ledger = await h.db.system((tx) =>
      queryRows<{ n: number; wf: string }>(
        tx,
        sql`SELECT count(*)::int AS n, min(workflow_id::text) AS wf FROM usage_records
            WHERE usage_type = 'tokens' AND details->>'runId' = ANY(${`{${ids.join(',')}}`}::text[])
            GROUP BY workflow_id`,
      ),
    );
    expect(ledger).toEqual([{ n: 600, wf }]);
  });

  it('step events only for an organization with a sink that asks for them, right after their agent event', async () => {
    await h.db.withTenant(h.orgId, (tx) =>
      tx.insert(eventSinks).values({
        organizationId: h.orgId,
        name: 'steps',
        kind: 'nats',
        subjectPrefix: 'aiops-test',
        eventTypes: ['step.*'],
      }),
    );
    const wf = await h.createWorkflow({
      name: 'with steps',
      nodes: [
        { id: 'a', type: 'agent', agent: { model: 'simulator:echo', prompt: 'x' } },
        { id: 'out', type: 'output', value: '{{nodes.a.output}}' },
      ],
      connections: [{ from: 'a', to: 'out' }],
    });
    const ids = [await h.start(wf, {}), await h.start(wf, {})];
    for (const id of ids) expect((await h.wait(id, 30_000)).status).toBe('completed');
    for (const id of ids) {
      const events = (await outbox([id])).map((e) => `${e.type}:${e.payload.nodeId ?? ''}`);
      expect(events).toEqual([
        'workflow_started:',
        'agent_task_completed:a',
        'step.completed:a',
        'step.completed:out',
        'workflow_finished:',
      ]);
    }
  });

  it('a run waiting for an approval: run.paused, then run.resumed when it is decided', async () => {
    const wf = await h.createWorkflow({
      name: 'approve',
      nodes: [
        { id: 'ask', type: 'approval', message: 'go?' },
        { id: 'after', type: 'agent', agent: { model: 'simulator:echo', prompt: 'x' } },
      ],
      connections: [{ from: 'ask', to: 'after' }],
    });
    const id = await h.start(wf, {});
    await expect.poll(async () => (await h.detail(id)).run.status, { timeout: 15_000 }).toBe('paused');
    await h.db.withTenant(h.orgId, (tx) => decideApproval(tx, id, 'ask', { approved: true, decidedBy: 'u' }));
    expect((await h.wait(id, 30_000)).status).toBe('completed');
    const types = (await outbox([id])).map((e) => e.type).filter((t) => !t.startsWith('step.'));
    expect(types).toEqual([
      'workflow_started',
      'run.paused',
      'run.resumed',
      'agent_task_completed',
      'workflow_finished',
    ]);
  });
});
