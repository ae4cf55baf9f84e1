import { randomUUID } from 'node:crypto';
import { type AgentPins, type Database, queryRows, type TriggerKind, workflowExecutions } from '@aiops/db';
import { sql } from 'drizzle-orm';
import type { CompiledVersion } from '../catalog.ts';
import type { RunRow } from '../run-rows.ts';
import type { ClaimedStep } from './claim-steps.ts';

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
  /** The sub-workflow step of the parent run that this run reports back to. */
  parentStepId?: string | null;
  idempotencyKey?: string | null;
  externalTriggerId?: string | null;
  /** The workflow's concurrency key, rendered from the input: runs with the same key run one at a time. */
  concurrencyKey?: string | null;
  timeoutMs: number;
  maxRetries: number;
  metadata?: Record<string, unknown>;
  /** A re-run: the steps it starts with (outputs reused upstream), instead of the version's fresh template. */
  steps?: StepSeed[];
  remainingNodes?: number;
  stepsCompleted?: number;
  rerunOf?: string;
}

/** A run's step as it is created. */
export interface StepSeed {
  node_id: string;
  status: 'pending' | 'ready' | 'completed' | 'skipped';
  pending_inputs: number;
  live_inputs?: number;
  output?: unknown;
  wait?: Record<string, unknown> | null;
}

export type InsertOutcome =
  | { kind: 'created'; id: string; run: RunRow }
  | { kind: 'duplicate'; id: string }
  | { kind: 'workflow_missing' }
  | { kind: 'version_changed' }
  | { kind: 'quota_exceeded' }
  | { kind: 'concurrency_limited' };

interface Created {
  leased?: ClaimedStep[];
  created: string[];
  queued: string[];
  quota: string[];
  limited: string[];
}

/** Lease the new runs' ready steps to this worker in the same transaction (up to `limit`). */
export interface LeaseCreated {
  workerId: string;
  limit: number;
  leaseMs: number;
}

/**
 * Inserts runs with one call of the SQL function `aiops_create_runs` (migration 0009): each run with one
 * step per node (entry nodes ready, the rest pending on their inputs), if its workflow exists in its
 * organization (at the expected version), the organization's monthly quota allows it, and the workflow's
 * concurrency allows it (else it is queued, or refused under the reject policy). `now` is the clock of
 * quota months. An idempotency key that matches an earlier run returns that run instead.
 */
export async function insertRuns(
  db: Database,
  runs: NewRun[],
  now: Date = new Date(),
  lease?: LeaseCreated,
): Promise<{ outcomes: InsertOutcome[]; leased: ClaimedStep[] }> {
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
    parent_step_id: r.parentStepId ?? null,
    idempotency_key: r.idempotencyKey ?? null,
    metadata: r.metadata ?? {},
    concurrency_key: r.concurrencyKey ?? null,
    ord: i,
    remaining: r.remainingNodes ?? null,
    steps_completed: r.stepsCompleted ?? null,
    rerun_of: r.rerunOf ?? null,
  }));
  const stepRows = runs.flatMap((r, i) =>
    (r.steps ?? r.compiled.stepTemplate).map((s) => ({
      organization_id: r.organizationId,
      run_id: ids[i],
      ...s,
    })),
  );
  const runsJson = JSON.stringify(runRows);
  const stepsJson = JSON.stringify(stepRows);
  // now() is the transaction's start, the same in the function: the runs' created_at.
  // One statement by itself (db.statement: on PGlite a prepared statement, parsed once).
  const [row] = await db.statement<{ r: Created; at: unknown }>(
    lease
      ? sql`SELECT aiops_create_and_lease(${runsJson}::jsonb, ${stepsJson}::jsonb, ${now.toISOString()}::timestamptz,
              ${lease.workerId}, ${lease.limit}, ${lease.leaseMs}) AS r, now() AS at`
      : sql`SELECT aiops_create_runs(${runsJson}::jsonb, ${stepsJson}::jsonb, ${now.toISOString()}::timestamptz) AS r, now() AS at`,
  );
  const r = row!.r;
  const at = workflowExecutions.createdAt.mapFromDriverValue(row!.at as string) as Date;
  const running = new Set((r.leased ?? []).map((s) => s.runId));
  const created = new Set(r.created);
  const queued = new Set(r.queued);
  const quota = new Set(r.quota);
  const limited = new Set(r.limited);
  const outcomes: InsertOutcome[] = [];
  for (const [i, run] of runs.entries()) {
    const id = ids[i]!;
    if (created.has(id)) {
      const status = queued.has(id) ? 'queued' : running.has(id) ? 'running' : 'pending';
      outcomes.push({ kind: 'created', id, run: insertedRow(id, runRows[i]!, run, status, at) });
    } else if (quota.has(id)) outcomes.push({ kind: 'quota_exceeded' });
    else if (limited.has(id)) outcomes.push({ kind: 'concurrency_limited' });
    else outcomes.push(await classify(run));
  }
  return { outcomes, leased: r.leased ?? [] };

  /** Why was it not inserted? Read in the run's own tenant. */
  async function classify(r: NewRun): Promise<InsertOutcome> {
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

/**
 * The row `aiops_create_runs` inserted for a run, as a select would read it back: what the caller sent,
 * the status the function gave it, and the column defaults. Answers a run's creation without a read.
 */
function insertedRow(
  id: string,
  row: {
    correlation_id: string;
    nodes: number;
    remaining: number | null;
    steps_completed: number | null;
  },
  run: NewRun,
  status: 'queued' | 'running' | 'pending',
  at: Date,
): RunRow {
  return {
    id,
    organizationId: run.organizationId,
    workflowId: run.compiled.workflowId,
    workflowVersion: run.compiled.version,
    status,
    statusReason: null,
    errorCode: null,
    errorMessage: null,
    triggeredBy: run.triggeredBy,
    triggeredByUserId: run.userId ?? null,
    triggeredByApiKeyId: run.apiKeyId ?? null,
    externalTriggerId: run.externalTriggerId ?? null,
    inputData: run.input ?? {},
    outputData: null,
    agentPins: run.agentPins,
    remainingNodes: row.remaining ?? row.nodes,
    stepsTotal: row.nodes,
    stepsCompleted: row.steps_completed ?? 0,
    // A run whose entry steps were leased at insertion starts running at once (aiops_create_and_lease).
    startedAt: status === 'running' ? at : null,
    completedAt: null,
    pausedAt: null,
    resumedAt: null,
    timeoutAt: new Date(at.getTime() + run.timeoutMs),
    durationMs: null,
    inputTokens: 0,
    outputTokens: 0,
    totalTokensUsed: 0,
    estimatedCost: '0.000000', // numeric(14, 6) as the driver reads it
    retryCount: 0,
    maxRetries: run.maxRetries,
    correlationId: row.correlation_id,
    parentExecutionId: run.parentExecutionId ?? null,
    parentStepId: run.parentStepId ?? null,
    rerunOfExecutionId: run.rerunOf ?? null,
    concurrencyKey: run.concurrencyKey ?? null,
    idempotencyKey: run.idempotencyKey ?? null,
    resourceUsage: null,
    performanceMetrics: null,
    metadata: run.metadata ?? {},
    createdAt: at,
    updatedAt: at,
  };
}
