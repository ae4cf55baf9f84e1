import { randomUUID } from 'node:crypto';
import type { AgentPins, TriggerKind, Tx } from '@aiops/db';
import { sql } from 'drizzle-orm';
import type { CompiledVersion } from '../catalog.ts';
import { insertEvents, notify } from '../events.ts';
import { CHANNELS } from '../types.ts';

export interface NewRun {
  organizationId: string;
  compiled: CompiledVersion;
  input: unknown;
  agentPins: AgentPins;
  triggeredBy: TriggerKind;
  userId?: string | null;
  apiKeyId?: string | null;
  correlationId?: string;
  parentExecutionId?: string | null;
  idempotencyKey?: string | null;
  externalTriggerId?: string | null;
  timeoutMs: number;
  maxRetries: number;
  metadata?: Record<string, unknown>;
}

export interface CreatedRun {
  id: string;
  /** False when the idempotency key matched an earlier run, which is returned instead. */
  created: boolean;
}

/**
 * Inserts a run and one step per node (entry nodes ready, the rest pending on their inputs), records
 * queued → pending, and wakes the workers. One transaction: the caller's.
 */
export async function insertRun(tx: Tx, run: NewRun): Promise<CreatedRun> {
  const { graph } = run.compiled;
  const id = randomUUID();
  const inserted = (await tx.execute(sql`
    INSERT INTO workflow_executions (
      id, organization_id, workflow_id, workflow_version, status, triggered_by, triggered_by_user_id,
      triggered_by_api_key_id, external_trigger_id, input_data, agent_pins, remaining_nodes, steps_total,
      timeout_at, max_retries, correlation_id, parent_execution_id, idempotency_key, metadata)
    VALUES (
      ${id}, ${run.organizationId}, ${run.compiled.workflowId}, ${run.compiled.version}, 'pending',
      ${run.triggeredBy}, ${run.userId ?? null}, ${run.apiKeyId ?? null}, ${run.externalTriggerId ?? null},
      ${JSON.stringify(run.input ?? {})}::jsonb, ${JSON.stringify(run.agentPins)}::jsonb,
      ${graph.nodes.size}, ${graph.nodes.size}, now() + ${`${run.timeoutMs} milliseconds`}::interval,
      ${run.maxRetries}, ${run.correlationId ?? randomUUID()}, ${run.parentExecutionId ?? null},
      ${run.idempotencyKey ?? null}, ${JSON.stringify(run.metadata ?? {})}::jsonb)
    ON CONFLICT (organization_id, idempotency_key) DO NOTHING
    RETURNING id`)) as unknown as { rows: { id: string }[] };
  if (!inserted.rows.length) {
    const existing = (await tx.execute(sql`
      SELECT id FROM workflow_executions
      WHERE organization_id = ${run.organizationId} AND idempotency_key = ${run.idempotencyKey ?? null}`)) as unknown as {
      rows: { id: string }[];
    };
    return { id: existing.rows[0]!.id, created: false };
  }
  const steps = [...graph.nodes.keys()].map((nodeId) => {
    const inputs = graph.incoming.get(nodeId)!.length;
    return { node_id: nodeId, status: inputs === 0 ? 'ready' : 'pending', pending_inputs: inputs };
  });
  await tx.execute(sql`
    INSERT INTO run_steps (organization_id, run_id, node_id, status, pending_inputs)
    SELECT ${run.organizationId}, ${id}, node_id, status, pending_inputs
    FROM jsonb_to_recordset(${JSON.stringify(steps)}::jsonb) AS v(node_id text, status text, pending_inputs int)`);
  await insertEvents(tx, [
    {
      runId: id,
      organizationId: run.organizationId,
      type: 'run.queued',
      data: { version: run.compiled.version },
    },
    { runId: id, organizationId: run.organizationId, type: 'run.pending', data: { ready: graph.entries } },
  ]);
  await notify(tx, CHANNELS.wake);
  return { id, created: true };
}
