import { queryRows, type Tx } from '@aiops/db';
import { sql } from 'drizzle-orm';
import type { CompiledVersion } from '../catalog.ts';
import { notify } from '../events.ts';
import { CHANNELS } from '../types.ts';
import type { ClaimedStep } from './claim-steps.ts';

/** How a step execution ended, as the worker reports it. */
export interface StepOutcome {
  step: ClaimedStep;
  kind: 'completed' | 'failed' | 'cancelled';
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

const json = (v: unknown) => JSON.stringify(v);

/**
 * Records a batch of step outcomes in one transaction of a few statements:
 * 1. each step's final state (only where this worker still holds the lease; steps of stopped runs
 *    become cancelled) and its attempt row;
 * 2. successors: incoming connections decided, nodes whose connections all failed to fire skipped;
 * 3. runs: totals, failure, completion with the output of its result nodes, the workflows' counters,
 *    and a NOTIFY for event streams;
 * 4. continuation: ready successors claimed for this worker, up to its free capacity.
 */
export async function completeSteps(
  tx: Tx,
  workerId: string,
  outcomes: StepOutcome[],
  versionOf: (runId: string) => CompiledVersion,
  continueUpTo: number,
  claimContinuations: (stepIds: string[]) => Promise<ClaimedStep[]>,
): Promise<FlushResult> {
  const result: FlushResult = { discarded: [], continued: [], finishedRuns: [], retryDelaysMs: [] };

  // 1. Steps and attempts.
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
    status_reason: o.error?.message ?? null,
    output: o.kind === 'completed' ? (o.output ?? null) : null,
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
  const final = new Map(
    (
      await queryRows<{ id: string; status: string }>(
        tx,
        sql`WITH v AS (
          SELECT * FROM jsonb_to_recordset(${json(rows)}::jsonb) AS v(
            id uuid, run_id uuid, organization_id uuid, node_id text, node_type text, agent_id uuid, agent_version int,
            attempt int, kind text, status text, status_reason text, output jsonb, error jsonb, failed int, delay_ms int,
            input jsonb, model text, started_at timestamptz, completed_at timestamptz, duration_ms int,
            input_tokens int, output_tokens int, cached_input_tokens int, reasoning_tokens int, total_tokens int,
            tokens_estimated boolean, cost numeric, cached boolean, failures int)
        ), runs AS (
          SELECT e.id, e.status IN ('pending', 'running') AS active FROM workflow_executions e
          WHERE e.id IN (SELECT run_id FROM v) ORDER BY e.id FOR NO KEY UPDATE
        ), upd AS (
          UPDATE run_steps r SET
            status = CASE WHEN runs.active THEN v.status ELSE 'cancelled' END,
            output = CASE WHEN runs.active THEN v.output END,
            error = v.error,
            failures = r.failures + v.failed,
            available_at = CASE WHEN runs.active AND v.status = 'ready'
                                THEN now() + make_interval(secs => v.delay_ms / 1000.0) ELSE r.available_at END,
            completed_at = CASE WHEN runs.active AND v.status = 'ready' THEN NULL ELSE now() END,
            lease_owner = NULL, lease_expires_at = NULL, updated_at = now()
          FROM v JOIN runs ON runs.id = v.run_id
          WHERE r.id = v.id AND r.lease_owner = ${workerId} AND r.status = 'running'
          RETURNING r.id, r.status
        ), att AS (
          INSERT INTO agent_executions (
            organization_id, workflow_execution_id, node_id, node_type, agent_id, agent_version, attempt, status,
            status_reason, input, output, model, queued_at, started_at, completed_at, duration_ms, input_tokens,
            output_tokens, cached_input_tokens, reasoning_tokens, total_tokens, tokens_estimated, estimated_cost,
            cached, error_details, retry_count, worker_id)
          SELECT v.organization_id, v.run_id, v.node_id, v.node_type, v.agent_id, v.agent_version, v.attempt,
            CASE WHEN upd.status = 'cancelled' THEN 'cancelled' ELSE v.kind END,
            CASE WHEN upd.status = 'cancelled' THEN 'run stopped' ELSE v.status_reason END,
            v.input, CASE WHEN upd.status = 'cancelled' THEN NULL ELSE v.output END, v.model, v.started_at,
            v.started_at, v.completed_at, v.duration_ms, v.input_tokens, v.output_tokens, v.cached_input_tokens,
            v.reasoning_tokens, v.total_tokens, v.tokens_estimated, v.cost, v.cached, v.error, v.failures, ${workerId}
          FROM v JOIN upd ON upd.id = v.id
        )
        SELECT id, status FROM upd`,
      )
    ).map((r) => [r.id, r.status]),
  );
  const kept: StepOutcome[] = [];
  for (const o of outcomes) {
    const status = final.get(o.step.stepId);
    if (status === undefined) result.discarded.push(o);
    else {
      kept.push(o);
      if (status === 'ready') result.retryDelaysMs.push(o.retryDelayMs ?? 0);
    }
  }
  if (!kept.length) return result;

  // 2. Successors: decide incoming connections; skip nodes none of whose connections fired.
  const perRun = new Map<
    string,
    { done: number; completed: number; input: number; output: number; total: number; cost: string[] }
  >();
  const runOf = (id: string) => {
    let t = perRun.get(id);
    if (!t) {
      t = { done: 0, completed: 0, input: 0, output: 0, total: 0, cost: [] };
      perRun.set(id, t);
    }
    return t;
  };
  let decisions = new Map<string, { run_id: string; node_id: string; dec: number; live: number }>();
  const decide = (runId: string, to: string, live: boolean) => {
    const key = `${runId}/${to}`;
    const d = decisions.get(key) ?? { run_id: runId, node_id: to, dec: 0, live: 0 };
    d.dec += 1;
    d.live += live ? 1 : 0;
    decisions.set(key, d);
  };
  const failedRuns = new Map<string, StepOutcome>();
  for (const o of kept) {
    const t = runOf(o.step.runId);
    t.input += o.usage?.inputTokens ?? 0;
    t.output += o.usage?.outputTokens ?? 0;
    t.total += o.usage?.totalTokens ?? 0;
    if (o.cost && o.cost !== '0') t.cost.push(o.cost);
    const status = final.get(o.step.stepId);
    if (status === 'completed') {
      t.done++;
      t.completed++;
      for (const e of o.edges ?? []) decide(o.step.runId, e.to, e.live);
    } else if (status === 'failed' && !failedRuns.has(o.step.runId)) {
      failedRuns.set(o.step.runId, o);
    }
  }
  const ready: string[] = [];
  while (decisions.size) {
    const changed = await queryRows<{ id: string; run_id: string; node_id: string; status: string }>(
      tx,
      sql`UPDATE run_steps r SET
          pending_inputs = r.pending_inputs - v.dec,
          live_inputs = r.live_inputs + v.live,
          status = CASE WHEN r.pending_inputs - v.dec > 0 THEN r.status
                        WHEN r.live_inputs + v.live > 0 THEN 'ready' ELSE 'skipped' END,
          available_at = now(),
          completed_at = CASE WHEN r.pending_inputs - v.dec = 0 AND r.live_inputs + v.live = 0 THEN now() END,
          updated_at = now()
        FROM jsonb_to_recordset(${json([...decisions.values()])}::jsonb) AS v(run_id uuid, node_id text, dec int, live int)
        WHERE r.run_id = v.run_id AND r.node_id = v.node_id AND r.status = 'pending'
        RETURNING r.id, r.run_id, r.node_id, r.status`,
    );
    decisions = new Map();
    for (const c of changed) {
      if (c.status === 'ready') ready.push(c.id);
      else if (c.status === 'skipped') {
        runOf(c.run_id).done++;
        for (const e of versionOf(c.run_id).graph.outgoing.get(c.node_id) ?? [])
          decide(c.run_id, e.to, false);
      }
    }
  }
  if (failedRuns.size) {
    await tx.execute(sql`UPDATE run_steps SET status = 'cancelled', completed_at = now(), updated_at = now()
      WHERE run_id = ANY(${`{${[...failedRuns.keys()].join(',')}}`}::uuid[]) AND status IN ('pending', 'ready')`);
    await notify(tx, CHANNELS.cancel, [...failedRuns.keys()]);
  }

  // 3. Runs: totals, failure or completion, workflow counters, announcement.
  const runRows = [...perRun.entries()].map(([id, t]) => {
    const failed = failedRuns.get(id);
    return {
      id,
      done: t.done,
      completed: t.completed,
      input: t.input,
      output: t.output,
      total: t.total,
      cost: t.cost,
      fail_code: failed ? (failed.error?.code ?? 'step_failed') : null,
      fail_message: failed
        ? `Step ${failed.step.nodeId} failed: ${failed.error?.message ?? 'unknown error'}`
        : null,
      result_nodes: versionOf(id).resultNodes,
    };
  });
  const finished = await queryRows<{ id: string; status: string; finished: boolean }>(
    tx,
    sql`WITH v AS (
        SELECT * FROM jsonb_to_recordset(${json(runRows)}::jsonb) AS v(
          id uuid, done int, completed int, input bigint, output bigint, total bigint, cost jsonb,
          fail_code text, fail_message text, result_nodes text[])
      ), upd AS (
        UPDATE workflow_executions e SET
          remaining_nodes = e.remaining_nodes - v.done,
          steps_completed = e.steps_completed + v.completed,
          input_tokens = e.input_tokens + v.input,
          output_tokens = e.output_tokens + v.output,
          total_tokens_used = e.total_tokens_used + v.total,
          estimated_cost = e.estimated_cost + (SELECT coalesce(sum(c::numeric), 0) FROM jsonb_array_elements_text(v.cost) c),
          status = CASE WHEN e.status NOT IN ('pending', 'running') THEN e.status
                        WHEN v.fail_code IS NOT NULL THEN 'failed'
                        WHEN e.remaining_nodes - v.done <= 0 THEN 'completed' ELSE e.status END,
          error_code = CASE WHEN e.status IN ('pending', 'running') AND v.fail_code IS NOT NULL THEN v.fail_code ELSE e.error_code END,
          error_message = CASE WHEN e.status IN ('pending', 'running') AND v.fail_code IS NOT NULL THEN v.fail_message ELSE e.error_message END,
          status_reason = CASE WHEN e.status IN ('pending', 'running') AND v.fail_code IS NOT NULL THEN v.fail_message ELSE e.status_reason END,
          output_data = CASE WHEN e.status IN ('pending', 'running') AND v.fail_code IS NULL AND e.remaining_nodes - v.done <= 0
            THEN (SELECT CASE WHEN count(*) = 1 THEN (jsonb_agg(s.output))->0 ELSE jsonb_object_agg(s.node_id, s.output) END
                  FROM run_steps s WHERE s.run_id = e.id AND s.node_id = ANY(v.result_nodes) AND s.status = 'completed')
            ELSE e.output_data END,
          completed_at = CASE WHEN e.status IN ('pending', 'running') AND (v.fail_code IS NOT NULL OR e.remaining_nodes - v.done <= 0)
            THEN now() ELSE e.completed_at END,
          duration_ms = CASE WHEN e.status IN ('pending', 'running') AND (v.fail_code IS NOT NULL OR e.remaining_nodes - v.done <= 0)
            THEN (extract(epoch FROM now() - coalesce(e.started_at, e.created_at)) * 1000)::int ELSE e.duration_ms END,
          updated_at = now()
        FROM v WHERE e.id = v.id
        RETURNING e.id, e.status, e.workflow_id, e.duration_ms, e.estimated_cost,
          (e.status IN ('completed', 'failed') AND e.completed_at = now()) AS finished
      ), counters AS (
        UPDATE workflows w SET
          average_duration = (coalesce(w.average_duration, 0) * w.total_executions + f.duration) / (w.total_executions + f.n),
          average_cost = (coalesce(w.average_cost, 0) * w.total_executions + f.cost) / (w.total_executions + f.n),
          total_executions = w.total_executions + f.n,
          successful_executions = w.successful_executions + f.ok,
          failed_executions = w.failed_executions + f.n - f.ok,
          last_run_at = now(), last_run_status = f.last
        FROM (SELECT workflow_id, count(*)::int AS n, count(*) FILTER (WHERE status = 'completed')::int AS ok,
                     coalesce(sum(duration_ms), 0)::float8 AS duration, coalesce(sum(estimated_cost), 0) AS cost,
                     max(status) AS last
              FROM upd WHERE finished GROUP BY workflow_id) f
        WHERE w.id = f.workflow_id
      )
      SELECT id, status, finished,
        (SELECT pg_notify(${CHANNELS.runEvents}, (SELECT json_agg(id)::text FROM upd))) AS announced
      FROM upd`,
  );
  for (const f of finished) if (f.finished) result.finishedRuns.push({ runId: f.id, status: f.status });

  // 4. Continuation.
  if (ready.length) {
    const take = continueUpTo > 0 ? ready.slice(0, continueUpTo) : [];
    result.continued = take.length ? await claimContinuations(take) : [];
    if (result.continued.length < ready.length) await notify(tx, CHANNELS.wake);
  }
  return result;
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
          FROM jsonb_to_recordset(${json(finished)}::jsonb) AS x(workflow_id uuid, status text, duration_ms int, estimated_cost numeric)
          GROUP BY workflow_id) f
    WHERE w.id = f.workflow_id`);
}
