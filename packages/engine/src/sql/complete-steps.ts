import type { RunStatement, Tx } from '@aiops/db';
import { type SQL, sql } from 'drizzle-orm';
import type { ClaimedStep } from './claim-steps.ts';
import { selectForBatch } from './plans.ts';

/** How a step execution ended, as the worker reports it. */
export interface StepOutcome {
  step: ClaimedStep;
  kind: 'completed' | 'failed' | 'cancelled' | 'waiting';
  /** For waiting steps: what they wait for (kind approval, delay or subworkflow, and its details). */
  wait?: Record<string, unknown>;
  /** For waiting steps: when the wait ends by itself (a delay, an approval's timeout). */
  wakeAt?: Date;
  /** Extra details of the attempt (fan-out items and their errors). */
  trace?: Record<string, unknown>;
  /** The rendered input of this attempt (prompt, model, parameters…). */
  input: unknown;
  output?: unknown;
  /** For completed steps: each outgoing connection and whether it fired. */
  edges?: { to: string; live: boolean }[];
  error?: { code: string; message: string; retryable: boolean; details?: Record<string, unknown> };
  /** Set when a failed step will run again after this many milliseconds. */
  retryDelayMs?: number;
  model?: string;
  usage?: {
    inputTokens: number;
    outputTokens: number;
    cachedInputTokens: number;
    reasoningTokens: number;
    totalTokens: number;
    estimated: boolean;
  };
  /** USD, decimal string. */
  cost?: string;
  cached?: boolean;
  agentId?: string;
  agentVersion?: number;
  nodeType: string;
  startedAt: Date;
  finishedAt: Date;
}

export interface FlushResult {
  /** Outcomes whose lease had been lost: their results were discarded. */
  discarded: StepOutcome[];
  /** Ready successors claimed by this worker in the same transaction (continuation). */
  continued: ClaimedStep[];
  finishedRuns: { runId: string; status: string }[];
  retryDelaysMs: number[];
}

/**
 * Records a batch of step outcomes with one call of the SQL function `aiops_complete_steps` (migration
 * 0007): each step's final state where this worker still holds its lease, its attempt row, successors
 * decided (branches whose connections did not fire skipped), failed and completed runs with their output,
 * the workflows' counters, and continuation (ready successors leased to this worker, up to
 * `continueUpTo`). One round trip, one commit (`db.statement`: on PGlite a statement parsed once).
 */
export async function completeSteps(
  run: RunStatement,
  workerId: string,
  outcomes: StepOutcome[],
  continueUpTo: number,
  leaseMs: number,
  /** The batch's log lines and spans, written by the same statement (`aiops_record_observations`). */
  observations?: unknown,
): Promise<FlushResult> {
  const rows = outcomes.map((o) => ({
    id: o.step.stepId,
    run_id: o.step.runId,
    organization_id: o.step.organizationId,
    node_id: o.step.nodeId,
    node_type: o.nodeType,
    agent_id: o.agentId ?? null,
    agent_version: o.agentVersion ?? null,
    attempt: o.step.attempt,
    kind: o.kind,
    status: o.kind === 'failed' && o.retryDelayMs !== undefined ? 'ready' : o.kind,
    wait: o.kind === 'waiting' ? (o.wait ?? {}) : null,
    wake_at: o.wakeAt ? o.wakeAt.toISOString() : null,
    // A retried failure's delay is kept on its attempt row: its "failed, retrying in … ms" line is derived
    // from the row when read (observability/lifecycle-lines.ts).
    trace: o.retryDelayMs !== undefined ? { ...o.trace, retryDelayMs: o.retryDelayMs } : (o.trace ?? null),
    status_reason: o.error?.message ?? null,
    output: o.kind === 'completed' ? (o.output ?? null) : null,
    edges: o.kind === 'completed' ? (o.edges ?? []) : [],
    error: o.error ?? null,
    failed: o.kind === 'failed' ? 1 : 0,
    delay_ms: o.retryDelayMs ?? 0,
    input: o.input ?? {},
    model: o.model ?? null,
    started_at: o.startedAt.toISOString(),
    completed_at: o.finishedAt.toISOString(),
    duration_ms: Math.max(0, Math.round(o.finishedAt.getTime() - o.startedAt.getTime())),
    input_tokens: o.usage?.inputTokens ?? 0,
    output_tokens: o.usage?.outputTokens ?? 0,
    cached_input_tokens: o.usage?.cachedInputTokens ?? 0,
    reasoning_tokens: o.usage?.reasoningTokens ?? 0,
    total_tokens: o.usage?.totalTokens ?? 0,
    tokens_estimated: o.usage?.estimated ?? false,
    cost: o.cost ?? '0',
    cached: o.cached ?? false,
    failures: o.step.failures,
  }));
  // Model spend goes on the organizations' monthly cost, in the same statement: the steps the completion
  // confirmed, summed per organization as numeric (only batches that cost something touch the rows).
  const spent = outcomes
    .filter((o) => Number(o.cost ?? 0) > 0)
    .map((o) => ({ step_id: o.step.stepId, organization_id: o.step.organizationId, cost: o.cost }));
  const also = [
    ...(observations ? [sql`aiops_record_observations(${JSON.stringify(observations)}::jsonb) AS o`] : []),
    ...(spent.length
      ? [
          sql`aiops_add_org_cost((SELECT coalesce(jsonb_agg(jsonb_build_object('organization_id', s.organization_id, 'cost', s.cost)), '[]')
              FROM (SELECT x.organization_id, sum(x.cost) AS cost
                    FROM jsonb_to_recordset(${JSON.stringify(spent)}::jsonb) AS x(step_id text, organization_id uuid, cost numeric)
                    WHERE c.r->'confirmed' ? x.step_id GROUP BY x.organization_id) s)) AS spent`,
        ]
      : []),
  ];
  const [row] = await run<{
    r: {
      confirmed: Record<string, string>;
      continued: ClaimedStep[];
      finished: { id: string; status: string }[];
    };
  }>(
    withBatchWrites(
      sql`aiops_complete_steps(${workerId}, ${JSON.stringify(rows)}::jsonb, ${continueUpTo}, ${leaseMs})`,
      outcomes.length,
      also,
    ),
  );
  const r = row!.r;
  const result: FlushResult = { discarded: [], continued: r.continued, finishedRuns: [], retryDelaysMs: [] };
  for (const o of outcomes) {
    const status = r.confirmed[o.step.stepId];
    if (status === undefined) result.discarded.push(o);
    else if (status === 'ready') result.retryDelaysMs.push(o.retryDelayMs ?? 0);
  }
  result.finishedRuns = r.finished.map((f) => ({ runId: f.id, status: f.status }));
  return result;
}

/**
 * The completion call with the batch's other writes in the same statement (one round trip, one commit),
 * after it, in order; they may read its result as `c.r` (the observability log lines and spans, the
 * organizations' model spend). A batch with nothing else to write runs the completion call alone. Agent
 * metric samples are not written: they are derived from the attempt rows (view agent_metric_samples).
 */
function withBatchWrites(completeCall: SQL, batchSize: number, also: SQL[]): SQL {
  // Plans as for the batch's size (plans.ts): the setting then holds for the whole statement.
  const complete = selectForBatch(batchSize, sql`${completeCall} AS r`);
  if (!also.length) return complete;
  return sql`WITH c AS MATERIALIZED (${complete}) SELECT c.r, ${sql.join(also, sql`, `)} FROM c`;
}

/** Seed 000's workflow analytics for runs stopped outside a flush (cancelled, timed out, failed). */
export async function recordWorkflowCounters(
  tx: Tx,
  finished: {
    workflow_id: string;
    status: string;
    duration_ms: number | null;
    estimated_cost: string | null;
  }[],
): Promise<void> {
  if (!finished.length) return;
  await tx.execute(sql`
    UPDATE workflows w SET
      average_duration = (coalesce(w.average_duration, 0) * w.total_executions + f.duration) / (w.total_executions + f.n),
      average_cost = (coalesce(w.average_cost, 0) * w.total_executions + f.cost) / (w.total_executions + f.n),
      total_executions = w.total_executions + f.n,
      successful_executions = w.successful_executions + f.ok,
      failed_executions = w.failed_executions + f.n - f.ok,
      last_run_at = now(), last_run_status = f.last
    FROM (SELECT workflow_id, count(*)::int AS n, count(*) FILTER (WHERE status = 'completed')::int AS ok,
                 coalesce(sum(duration_ms), 0)::float8 AS duration, coalesce(sum(estimated_cost), 0) AS cost, max(status) AS last
          FROM jsonb_to_recordset(${JSON.stringify(finished)}::jsonb) AS x(workflow_id uuid, status text, duration_ms int, estimated_cost numeric)
          GROUP BY workflow_id) f
    WHERE w.id = f.workflow_id`);
}
