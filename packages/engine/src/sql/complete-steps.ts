import { queryRows, type Tx } from '@aiops/db';
import { sql } from 'drizzle-orm';
import type { CompiledVersion } from '../catalog.ts';
import { insertEvents, type NewEvent, notify } from '../events.ts';
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
  continued: string[];
  /** Ready successors left in the queue. */
  leftReady: number;
  finishedRuns: { runId: string; status: 'completed' | 'failed' }[];
  retryDelaysMs: number[];
}

const ACTIVE = new Set(['pending', 'running']);
const uuids = (ids: string[]) => `{${ids.join(',')}}`;
const json = (v: unknown) => JSON.stringify(v);

/**
 * Records a batch of step outcomes in one transaction: each step's final state (only if this worker
 * still holds its lease), its attempt row, its successors' readiness (skipping branches whose
 * connections did not fire), failed runs, completed runs with their output, the workflows' counters,
 * events and wake-ups. `versions` gives the compiled version of each outcome's run.
 */
export async function completeSteps(
  tx: Tx,
  workerId: string,
  outcomes: StepOutcome[],
  versions: (o: StepOutcome) => CompiledVersion,
  continueUpTo: number,
  claimContinuations: (stepIds: string[]) => Promise<string[]>,
): Promise<FlushResult> {
  const result: FlushResult = {
    discarded: [],
    continued: [],
    leftReady: 0,
    finishedRuns: [],
    retryDelaysMs: [],
  };
  const events: NewEvent[] = [];
  const runIds = [...new Set(outcomes.map((o) => o.step.runId))].sort();
  const runs = new Map(
    (
      await queryRows<{ id: string; status: string }>(
        tx,
        sql`SELECT id, status FROM workflow_executions WHERE id = ANY(${uuids(runIds)}::uuid[]) ORDER BY id FOR UPDATE`,
      )
    ).map((r) => [r.id, r.status]),
  );

  // 1. Each step's own state, guarded by the lease.
  const finals = outcomes.map((o) => {
    const stopped = !ACTIVE.has(runs.get(o.step.runId) ?? '');
    const kind = stopped ? 'cancelled' : o.kind;
    const status = kind === 'failed' && o.retryDelayMs !== undefined ? 'ready' : kind;
    return { o, kind, status };
  });
  const confirmed = new Set(
    (
      await queryRows<{ id: string }>(
        tx,
        sql`UPDATE run_steps r SET
          status = v.status, output = v.output, error = v.error, failures = r.failures + v.failed,
          available_at = CASE WHEN v.status = 'ready' THEN now() + make_interval(secs => v.delay_ms / 1000.0) ELSE r.available_at END,
          completed_at = CASE WHEN v.status = 'ready' THEN NULL ELSE now() END,
          lease_owner = NULL, lease_expires_at = NULL, updated_at = now()
        FROM jsonb_to_recordset(${json(
          finals.map(({ o, kind, status }) => ({
            id: o.step.stepId,
            status,
            output: kind === 'completed' ? (o.output ?? null) : null,
            error: o.error ?? null,
            failed: kind === 'failed' ? 1 : 0,
            delay_ms: o.retryDelayMs ?? 0,
          })),
        )}::jsonb) AS v(id uuid, status text, output jsonb, error jsonb, failed int, delay_ms int)
        WHERE r.id = v.id AND r.lease_owner = ${workerId} AND r.status = 'running'
        RETURNING r.id`,
      )
    ).map((r) => r.id),
  );
  const kept = finals.filter((f) => {
    if (confirmed.has(f.o.step.stepId)) return true;
    result.discarded.push(f.o);
    return false;
  });
  if (!kept.length) return result;

  // 2. Attempt rows.
  await tx.execute(sql`
    INSERT INTO agent_executions (
      organization_id, workflow_execution_id, node_id, node_type, agent_id, agent_version, attempt, status,
      status_reason, input, output, model, queued_at, started_at, completed_at, duration_ms, input_tokens,
      output_tokens, cached_input_tokens, reasoning_tokens, total_tokens, tokens_estimated, estimated_cost, cached,
      error_details, retry_count, worker_id)
    SELECT organization_id, run_id, node_id, node_type, agent_id, agent_version, attempt, status, status_reason,
      input, output, model, started_at, started_at, completed_at, duration_ms, input_tokens, output_tokens,
      cached_input_tokens, reasoning_tokens, total_tokens, tokens_estimated, cost, cached, error, failures, ${workerId}
    FROM jsonb_to_recordset(${json(
      kept.map(({ o, kind }) => ({
        organization_id: o.step.organizationId,
        run_id: o.step.runId,
        node_id: o.step.nodeId,
        node_type: o.nodeType,
        agent_id: o.agentId ?? null,
        agent_version: o.agentVersion ?? null,
        attempt: o.step.attempt,
        status: kind,
        status_reason: kind === 'cancelled' ? 'run stopped' : (o.error?.message ?? null),
        input: o.input ?? {},
        output: kind === 'completed' ? (o.output ?? null) : null,
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
        error: o.error ?? null,
        failures: o.step.failures,
      })),
    )}::jsonb) AS v(organization_id uuid, run_id uuid, node_id text, node_type text, agent_id uuid, agent_version int,
      attempt int, status text, status_reason text, input jsonb, output jsonb, model text, started_at timestamptz,
      completed_at timestamptz, duration_ms int, input_tokens int, output_tokens int, cached_input_tokens int,
      reasoning_tokens int, total_tokens int, tokens_estimated boolean, cost numeric, cached boolean, error jsonb,
      failures int)`);

  for (const { o, kind, status } of kept) {
    const base = { runId: o.step.runId, organizationId: o.step.organizationId, nodeId: o.step.nodeId };
    const data = { attempt: o.step.attempt, durationMs: o.finishedAt.getTime() - o.startedAt.getTime() };
    if (kind === 'completed') {
      events.push({
        ...base,
        type: 'step.completed',
        data: { ...data, output: o.output, tokens: o.usage?.totalTokens ?? 0, cost: o.cost ?? '0' },
      });
    } else if (kind === 'cancelled') {
      events.push({ ...base, type: 'step.cancelled', data });
    } else if (status === 'ready') {
      events.push({
        ...base,
        type: 'step.retrying',
        data: { ...data, error: o.error, retryInMs: o.retryDelayMs },
      });
      result.retryDelaysMs.push(o.retryDelayMs!);
    } else {
      events.push({ ...base, type: 'step.failed', data: { ...data, error: o.error } });
    }
  }

  // 3. Successors: decide incoming connections; skip nodes none of whose connections fired.
  const done = new Map<string, number>(); // run → nodes completed or skipped now
  const completedCount = new Map<string, number>();
  const bump = (m: Map<string, number>, k: string, n = 1) => m.set(k, (m.get(k) ?? 0) + n);
  let decisions = new Map<string, { run_id: string; node_id: string; dec: number; live: number }>();
  const decide = (runId: string, to: string, live: boolean) => {
    const key = `${runId}/${to}`;
    const d = decisions.get(key) ?? { run_id: runId, node_id: to, dec: 0, live: 0 };
    d.dec += 1;
    d.live += live ? 1 : 0;
    decisions.set(key, d);
  };
  const byRunVersion = new Map<string, CompiledVersion>();
  for (const { o, kind } of kept) {
    byRunVersion.set(o.step.runId, versions(o));
    if (kind !== 'completed') continue;
    bump(done, o.step.runId);
    bump(completedCount, o.step.runId);
    for (const e of o.edges ?? []) decide(o.step.runId, e.to, e.live);
  }
  const ready: { id: string; run_id: string }[] = [];
  while (decisions.size) {
    const changed = await queryRows<{
      id: string;
      run_id: string;
      node_id: string;
      status: string;
      organization_id: string;
    }>(
      tx,
      sql`UPDATE run_steps r SET
          pending_inputs = r.pending_inputs - v.dec,
          live_inputs = r.live_inputs + v.live,
          status = CASE WHEN r.pending_inputs - v.dec > 0 THEN r.status
                        WHEN r.live_inputs + v.live > 0 THEN 'ready' ELSE 'skipped' END,
          available_at = now(),
          completed_at = CASE WHEN r.pending_inputs - v.dec = 0 AND r.live_inputs + v.live = 0 THEN now() ELSE NULL END,
          updated_at = now()
        FROM jsonb_to_recordset(${json([...decisions.values()])}::jsonb) AS v(run_id uuid, node_id text, dec int, live int)
        WHERE r.run_id = v.run_id AND r.node_id = v.node_id AND r.status = 'pending'
        RETURNING r.id, r.run_id, r.node_id, r.status, r.organization_id`,
    );
    decisions = new Map();
    for (const c of changed) {
      if (c.status === 'ready') {
        if (ACTIVE.has(runs.get(c.run_id) ?? '')) ready.push({ id: c.id, run_id: c.run_id });
      } else if (c.status === 'skipped') {
        bump(done, c.run_id);
        events.push({
          runId: c.run_id,
          organizationId: c.organization_id,
          type: 'step.skipped',
          nodeId: c.node_id,
        });
        for (const e of byRunVersion.get(c.run_id)!.graph.outgoing.get(c.node_id) ?? [])
          decide(c.run_id, e.to, false);
      }
    }
  }

  // 4. Runs whose step failed for good fail; their other steps stop.
  const failedRuns = new Map<string, StepOutcome>();
  for (const { o, kind, status } of kept) {
    if (kind === 'failed' && status === 'failed' && !failedRuns.has(o.step.runId))
      failedRuns.set(o.step.runId, o);
  }
  if (failedRuns.size) {
    const ids = [...failedRuns.keys()];
    const cancelled = await queryRows<{ run_id: string; node_id: string; organization_id: string }>(
      tx,
      sql`UPDATE run_steps SET status = 'cancelled', completed_at = now(), updated_at = now()
          WHERE run_id = ANY(${uuids(ids)}::uuid[]) AND status IN ('pending', 'ready')
          RETURNING run_id, node_id, organization_id`,
    );
    for (const c of cancelled) {
      events.push({
        runId: c.run_id,
        organizationId: c.organization_id,
        type: 'step.cancelled',
        nodeId: c.node_id,
      });
    }
    for (let i = ready.length - 1; i >= 0; i--) if (failedRuns.has(ready[i]!.run_id)) ready.splice(i, 1);
  }

  // 5. Run totals; completion of runs with nothing left.
  const totals = new Map<
    string,
    {
      id: string;
      done: number;
      completed: number;
      input: number;
      output: number;
      total: number;
      cost: string[];
    }
  >();
  for (const { o } of kept) {
    const t = totals.get(o.step.runId) ?? {
      id: o.step.runId,
      done: 0,
      completed: 0,
      input: 0,
      output: 0,
      total: 0,
      cost: [],
    };
    t.input += o.usage?.inputTokens ?? 0;
    t.output += o.usage?.outputTokens ?? 0;
    t.total += o.usage?.totalTokens ?? 0;
    if (o.cost && o.cost !== '0') t.cost.push(o.cost);
    totals.set(o.step.runId, t);
  }
  for (const [runId, n] of done) totals.get(runId)!.done = n;
  for (const [runId, n] of completedCount) totals.get(runId)!.completed = n;
  const updated = await queryRows<{
    id: string;
    remaining_nodes: number;
    status: string;
    organization_id: string;
    workflow_id: string;
  }>(
    tx,
    sql`UPDATE workflow_executions e SET
        remaining_nodes = e.remaining_nodes - v.done, steps_completed = e.steps_completed + v.completed,
        input_tokens = e.input_tokens + v.input, output_tokens = e.output_tokens + v.output,
        total_tokens_used = e.total_tokens_used + v.total,
        estimated_cost = e.estimated_cost + (SELECT coalesce(sum(c::numeric), 0) FROM jsonb_array_elements_text(v.cost) c),
        updated_at = now()
      FROM jsonb_to_recordset(${json([...totals.values()])}::jsonb)
        AS v(id uuid, done int, completed int, input bigint, output bigint, total bigint, cost jsonb)
      WHERE e.id = v.id
      RETURNING e.id, e.remaining_nodes, e.status, e.organization_id, e.workflow_id`,
  );

  const finishing = updated.filter(
    (r) => ACTIVE.has(r.status) && (failedRuns.has(r.id) || r.remaining_nodes <= 0),
  );
  if (finishing.length) {
    const completing = finishing.filter((r) => !failedRuns.has(r.id));
    const outputs = await runOutputs(
      tx,
      completing.map((r) => ({ runId: r.id, nodes: byRunVersion.get(r.id)!.resultNodes })),
    );
    const rows = finishing.map((r) => {
      const failed = failedRuns.get(r.id);
      return {
        id: r.id,
        status: failed ? 'failed' : 'completed',
        output: failed ? null : (outputs.get(r.id) ?? null),
        error_code: failed?.error?.code ?? null,
        error_message: failed
          ? `Step ${failed.step.nodeId} failed: ${failed.error?.message ?? 'unknown error'}`
          : null,
      };
    });
    const finished = await queryRows<{
      id: string;
      status: 'completed' | 'failed';
      organization_id: string;
      workflow_id: string;
      duration_ms: number;
      estimated_cost: string;
    }>(
      tx,
      sql`UPDATE workflow_executions e SET status = v.status, output_data = v.output, error_code = v.error_code,
          error_message = v.error_message, status_reason = v.error_message, completed_at = now(),
          duration_ms = (extract(epoch FROM now() - coalesce(e.started_at, e.created_at)) * 1000)::int, updated_at = now()
        FROM jsonb_to_recordset(${json(rows)}::jsonb) AS v(id uuid, status text, output jsonb, error_code text, error_message text)
        WHERE e.id = v.id
        RETURNING e.id, e.status, e.organization_id, e.workflow_id, e.duration_ms, e.estimated_cost::text`,
    );
    for (const f of finished) {
      result.finishedRuns.push({ runId: f.id, status: f.status });
      events.push({
        runId: f.id,
        organizationId: f.organization_id,
        type: f.status === 'completed' ? 'run.completed' : 'run.failed',
        data: {
          durationMs: f.duration_ms,
          cost: f.estimated_cost,
          ...(f.status === 'failed' ? { error: failedRuns.get(f.id)?.error } : {}),
        },
      });
    }
    await recordWorkflowCounters(tx, finished);
    if (failedRuns.size) await notify(tx, CHANNELS.cancel, [...failedRuns.keys()]);
  }

  // 6. Continuation: run what became ready here, in this worker, up to its free capacity.
  if (ready.length) {
    const take = ready.slice(0, Math.max(0, continueUpTo));
    result.continued = take.length ? await claimContinuations(take.map((r) => r.id)) : [];
    result.leftReady = ready.length - result.continued.length;
    if (result.leftReady > 0) await notify(tx, CHANNELS.wake);
  }
  await insertEvents(tx, events);
  return result;
}

/** A run's output: its result nodes' outputs (one: the value itself; several: keyed by node id). */
async function runOutputs(tx: Tx, runs: { runId: string; nodes: string[] }[]): Promise<Map<string, unknown>> {
  const out = new Map<string, unknown>();
  if (!runs.length) return out;
  const rows = await queryRows<{ run_id: string; node_id: string; output: unknown }>(
    tx,
    sql`SELECT s.run_id, s.node_id, s.output FROM run_steps s
        JOIN jsonb_to_recordset(${json(runs.flatMap((r) => r.nodes.map((n) => ({ run_id: r.runId, node_id: n }))))}::jsonb)
          AS v(run_id uuid, node_id text) ON s.run_id = v.run_id AND s.node_id = v.node_id
        WHERE s.status = 'completed'`,
  );
  const byRun = new Map<string, { node_id: string; output: unknown }[]>();
  for (const r of rows) byRun.set(r.run_id, [...(byRun.get(r.run_id) ?? []), r]);
  for (const [runId, list] of byRun) {
    out.set(
      runId,
      list.length === 1 ? list[0]!.output : Object.fromEntries(list.map((l) => [l.node_id, l.output])),
    );
  }
  return out;
}

/** Seed 000's workflow analytics: finished runs, successes, failures, mean duration and cost. */
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
  const agg = new Map<
    string,
    { id: string; n: number; ok: number; failed: number; duration: number; cost: number; last: string }
  >();
  for (const f of finished) {
    const a = agg.get(f.workflow_id) ?? {
      id: f.workflow_id,
      n: 0,
      ok: 0,
      failed: 0,
      duration: 0,
      cost: 0,
      last: f.status,
    };
    a.n += 1;
    a.ok += f.status === 'completed' ? 1 : 0;
    a.failed += f.status === 'completed' ? 0 : 1;
    a.duration += f.duration_ms ?? 0;
    a.cost += Number(f.estimated_cost ?? 0);
    a.last = f.status;
    agg.set(f.workflow_id, a);
  }
  await tx.execute(sql`
    UPDATE workflows w SET
      average_duration = (coalesce(w.average_duration, 0) * w.total_executions + v.duration) / (w.total_executions + v.n),
      average_cost = (coalesce(w.average_cost, 0) * w.total_executions + v.cost) / (w.total_executions + v.n),
      total_executions = w.total_executions + v.n,
      successful_executions = w.successful_executions + v.ok,
      failed_executions = w.failed_executions + v.failed,
      last_run_at = now(), last_run_status = v.last
    FROM jsonb_to_recordset(${json([...agg.values()])}::jsonb)
      AS v(id uuid, n int, ok int, failed int, duration double precision, cost numeric, last text)
    WHERE w.id = v.id`);
}
