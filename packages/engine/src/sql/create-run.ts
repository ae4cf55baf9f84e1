import { randomUUID } from 'node:crypto';
import { type AgentPins, type Database, queryRows, type TriggerKind } from '@aiops/db';
import { sql } from 'drizzle-orm';
import type { CompiledVersion } from '../catalog.ts';

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
export async function insertRuns(db: Database, runs: NewRun[]): Promise<InsertOutcome[]> {
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
  const [row] = await queryRows<{ ids: string[] }>(
    db.db,
    sql`SELECT aiops_create_runs(${JSON.stringify(runRows)}::jsonb, ${JSON.stringify(stepRows)}::jsonb) AS ids`,
  );
  const inserted = row!.ids.map((id) => ({ id }));
  const created = new Set(inserted.map((r) => r.id));
  if (created.size === runs.length) return ids.map((id) => ({ kind: 'created', id }));
  const outcomes: InsertOutcome[] = [];
  for (const [i, r] of runs.entries()) {
    outcomes.push(await classify(r, ids[i]!));
  }
  return outcomes;

  async function classify(r: NewRun, id: string): Promise<InsertOutcome> {
    if (created.has(id)) return { kind: 'created', id };
    // Why was it not inserted? Read in the run's own tenant.
    const [row] = await db.withTenant(r.organizationId, (tx) =>
      queryRows<{ version: number | null; existing: string | null }>(
        tx,
        sql`SELECT (SELECT version FROM workflows WHERE id = ${r.compiled.workflowId} AND deleted_at IS NULL) AS version,
                   (SELECT id FROM workflow_executions WHERE idempotency_key = ${r.idempotencyKey ?? null}) AS existing`,
      ),
    );
    if (row?.existing) return { kind: 'duplicate', id: row.existing };
    if (row?.version === null || row?.version === undefined) return { kind: 'workflow_missing' };
    return { kind: 'version_changed' };
  }
}
