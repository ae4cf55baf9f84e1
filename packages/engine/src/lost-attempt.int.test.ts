import type { CreateAgentBody } from '@aiops/contracts';
import { queryRows } from '@aiops/db';
import { testBackend } from '@aiops/testing';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgent } from './agents.ts';
import { reclaimExpiredLeases } from './sql/maintenance.ts';
import { type EngineHarness, engineHarness } from './test-support.ts';

/**
 * A step attempt lost with its worker (the lease expired) is recorded by the sweep as a failed attempt; an
 * agent node's names its agent and pinned version, so the agent's `agent_task_failed` event and alert rules
 * see it like any failed attempt.
 */
let h: EngineHarness;

beforeAll(async () => {
  h = await engineHarness({ workers: 0 });
});
afterAll(() => h?.close());

describe(`lost step attempts on ${testBackend()}`, () => {
  it("an agent node's lost attempt names its agent and version; its retry completes", async () => {
    const agent = await h.db.withTenant(h.orgId, (tx) =>
      createAgent(
        tx,
        h.orgId,
        {
          name: 'Often lost',
          model: 'simulator:echo',
          promptTemplate: 'hello {{input.text}}',
        } as CreateAgentBody,
        null,
      ),
    );
    const wf = await h.createWorkflow({
      name: 'lost workers',
      nodes: [
        { id: 'pinned', type: 'agent', agentId: agent.id },
        { id: 'inline', type: 'agent', agent: { model: 'simulator:echo', prompt: 'inline {{input.text}}' } },
        { id: 'out', type: 'output', value: { a: '{{nodes.pinned.output}}', b: '{{nodes.inline.output}}' } },
      ],
      connections: [
        { from: 'pinned', to: 'out' },
        { from: 'inline', to: 'out' },
      ],
    });
    const runId = await h.start(wf, { text: 'there' });
    // A worker claimed both steps and died: its leases expired a second ago.
    const claimed = await h.db.system((tx) =>
      queryRows<{ node_id: string }>(
        tx,
        sql`UPDATE run_steps SET status = 'running', attempt = attempt + 1, lease_owner = 'dead-worker',
              lease_expires_at = now() - interval '1 second', started_at = now() - interval '1 minute'
            WHERE run_id = ${runId}::uuid AND status = 'ready' RETURNING node_id`,
      ),
    );
    expect(claimed.map((c) => c.node_id).sort()).toEqual(['inline', 'pinned']);
    const reclaimed = await h.db.system((tx) => reclaimExpiredLeases(tx, 3, 'sweeper', []));
    expect(reclaimed).toBe(2);

    const lost = await h.db.system((tx) =>
      queryRows<{
        node_id: string;
        node_type: string;
        agent_id: string | null;
        agent_version: number | null;
        status: string;
        worker_id: string;
        code: string;
      }>(
        tx,
        sql`SELECT node_id, node_type, agent_id, agent_version, status, worker_id, error_details->>'code' AS code
            FROM agent_executions WHERE workflow_execution_id = ${runId}::uuid ORDER BY node_id`,
      ),
    );
    expect(lost).toEqual([
      {
        node_id: 'inline',
        node_type: 'unknown',
        agent_id: null,
        agent_version: null,
        status: 'failed',
        worker_id: 'dead-worker',
        code: 'worker_lost',
      },
      {
        node_id: 'pinned',
        node_type: 'agent',
        agent_id: agent.id,
        agent_version: agent.versionNumber,
        status: 'failed',
        worker_id: 'dead-worker',
        code: 'worker_lost',
      },
    ]);
    // The agent's failure event, as the outbox dispatcher hands it to alert rules.
    const events = await h.db.system((tx) =>
      queryRows<{ type: string; agent_id: string | null; node_id: string }>(
        tx,
        sql`SELECT type, payload->>'agentId' AS agent_id, payload->>'nodeId' AS node_id FROM event_outbox
            WHERE subject_id = ${runId}::uuid AND type LIKE 'agent_task_%'`,
      ),
    );
    expect(events).toEqual([{ type: 'agent_task_failed', agent_id: agent.id, node_id: 'pinned' }]);

    // Both steps went back to the queue: a live worker completes them.
    await h.addWorker();
    const run = await h.wait(runId);
    expect(run.status).toBe('completed');
    const attempts = await h.db.system((tx) =>
      queryRows<{ node_id: string; attempt: number; status: string; agent_id: string | null }>(
        tx,
        sql`SELECT node_id, attempt, status, agent_id FROM agent_executions
            WHERE workflow_execution_id = ${runId}::uuid AND node_id = 'pinned' ORDER BY attempt`,
      ),
    );
    expect(attempts).toEqual([
      { node_id: 'pinned', attempt: 1, status: 'failed', agent_id: agent.id },
      { node_id: 'pinned', attempt: 2, status: 'completed', agent_id: agent.id },
    ]);
  });
});
