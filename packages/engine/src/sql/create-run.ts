import { randomUUID } from 'node:crypto';
import { type AgentPins, queryRows, type TriggerKind, type Tx } from '@aiops/db';
import { sql } from 'drizzle-orm';
import type { CompiledVersion } from '../catalog.ts';
import { CHANNELS } from '../types.ts';

export interface NewRun {
  organizationId: string;
  compiled: CompiledVersion;
  /** The run is created only if the workflow's current version is still `compiled.version`. */
  expectCurrentVersion: boolean;
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

export type InsertOutcome =
  | { kind: 'created'; id: string }
  | { kind: 'duplicate'; id: string }
  | { kind: 'workflow_missing' }
  | { kind: 'version_changed' };

/**
 * Inserts runs in one statement: each run row (status pending), one step per node (entry nodes ready,
 * the rest pending on their inputs), and a NOTIFY that wakes the workers. A run is inserted only if its
 * workflow exists in its organization (and is still at the expected version); an idempotency key that
 * matches an earlier run returns that run instead.
 */
export async function insertRuns(tx: Tx, runs: NewRun[]): Promise<InsertOutcome[]> {
  const ids = runs.map(() => randomUUID());
  const runRows = runs.map((r, i) => ({
    id: ids[i],
    organization_id: r.organizationId,
    workflow_id: r.compiled.workflowId,
    workflow_version: r.compiled.version,
    expect_current: r.expectCurrentVersion,
    triggered_by: r.triggeredBy,
    user_id: r.userId ?? null,
    api_key_id: r.apiKeyId ?? null,
    external_trigger_id: r.externalTriggerId ?? null,
    input: r.input ?? {},
    agent_pins: r.agentPins,
    nodes: r.compiled.graph.nodes.size,
    timeout_ms: r.timeoutMs,
    max_retries: r.maxRetries,
    correlation_id: r.correlationId ?? randomUUID(),
    parent_execution_id: r.parentExecutionId ?? null,
    idempotency_key: r.idempotencyKey ?? null,
    metadata: r.metadata ?? {},
  }));
  const stepRows = runs.flatMap((r, i) =>
    r.compiled.stepTemplate.map((s) => ({ organization_id: r.organizationId, run_id: ids[i], ...s })),
  );
  const inserted = await queryRows<{ id: string }>(
    tx,
    sql`WITH v AS (
      SELECT * FROM jsonb_to_recordset(${JSON.stringify(runRows)}::jsonb) AS v(
        id uuid, organization_id uuid, workflow_id uuid, workflow_version int, expect_current boolean,
        triggered_by text, user_id uuid, api_key_id uuid, external_trigger_id text, input jsonb, agent_pins jsonb,
        nodes int, timeout_ms bigint, max_retries int, correlation_id uuid, parent_execution_id uuid,
        idempotency_key text, metadata jsonb)
    ), ok AS (
      SELECT v.* FROM v JOIN workflows w
        ON w.id = v.workflow_id AND w.organization_id = v.organization_id AND w.deleted_at IS NULL
      WHERE NOT v.expect_current OR w.version = v.workflow_version
    ), runs AS (
      INSERT INTO workflow_executions (
        id, organization_id, workflow_id, workflow_version, status, triggered_by, triggered_by_user_id,
        triggered_by_api_key_id, external_trigger_id, input_data, agent_pins, remaining_nodes, steps_total,
        timeout_at, max_retries, correlation_id, parent_execution_id, idempotency_key, metadata)
      SELECT id, organization_id, workflow_id, workflow_version, 'pending', triggered_by, user_id, api_key_id,
        external_trigger_id, input, agent_pins, nodes, nodes, now() + make_interval(secs => timeout_ms / 1000.0),
        max_retries, correlation_id, parent_execution_id, idempotency_key, metadata
      FROM ok
      ON CONFLICT (organization_id, idempotency_key) DO NOTHING
      RETURNING id
    ), steps AS (
      INSERT INTO run_steps (organization_id, run_id, node_id, status, pending_inputs)
      SELECT s.organization_id, s.run_id, s.node_id, s.status, s.pending_inputs
      FROM jsonb_to_recordset(${JSON.stringify(stepRows)}::jsonb)
        AS s(organization_id uuid, run_id uuid, node_id text, status text, pending_inputs int)
      JOIN runs ON runs.id = s.run_id
    )
    SELECT runs.id, (SELECT pg_notify(${CHANNELS.wake}, '')) AS woke FROM runs`,
  );
  const created = new Set(inserted.map((r) => r.id));
  if (created.size === runs.length) return ids.map((id) => ({ kind: 'created', id }));
  const outcomes: InsertOutcome[] = [];
  for (const [i, r] of runs.entries()) {
    outcomes.push(await classify(r, ids[i]!));
  }
  return outcomes;

  async function classify(r: NewRun, id: string): Promise<InsertOutcome> {
    if (created.has(id)) return { kind: 'created', id };
    const [row] = await queryRows<{ version: number | null; existing: string | null }>(
      tx,
      sql`SELECT (SELECT version FROM workflows WHERE id = ${r.compiled.workflowId}
                      AND organization_id = ${r.organizationId} AND deleted_at IS NULL) AS version,
                   (SELECT id FROM workflow_executions WHERE organization_id = ${r.organizationId}
                      AND idempotency_key = ${r.idempotencyKey ?? null}) AS existing`,
    );
    if (row?.existing) return { kind: 'duplicate', id: row.existing };
    if (row?.version === null || row?.version === undefined) return { kind: 'workflow_missing' };
    return { kind: 'version_changed' };
  }
}
