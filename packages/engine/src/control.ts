import {
  AppError,
  ancestors,
  assertTransition,
  type Graph,
  notFound,
  parseTemplate,
  type RunStatus,
  TemplateError,
  templateNodeRefs,
} from '@aiops/core';
import { queryRows, runSteps, type Tx, workflowExecutions } from '@aiops/db';
import { and, eq, or, sql } from 'drizzle-orm';
import type { CompiledVersion } from './catalog.ts';
import { notify } from './events.ts';
import { getRun, type RunRow, type StepRow } from './run-rows.ts';
import type { StepSeed } from './sql/create-run.ts';
import { unpauseApprovedRuns } from './sql/maintenance.ts';
import { CHANNELS } from './types.ts';

/**
 * Run control: approvals, pause and resume, retry of a failed run, and the inputs of a re-run from a step.
 * Each runs inside the caller's tenant transaction (row-level security applies).
 */

async function lockRun(tx: Tx, runId: string): Promise<RunRow> {
  const [run] = await tx
    .select()
    .from(workflowExecutions)
    .where(eq(workflowExecutions.id, runId))
    .for('update');
  if (!run) throw notFound('Run', runId);
  return run;
}

/** A step of a run by node id or step id. */
async function findStep(tx: Tx, runId: string, ref: string): Promise<StepRow> {
  const byId = /^[0-9a-f-]{36}$/i.test(ref) ? eq(runSteps.id, ref) : undefined;
  const [step] = await tx
    .select()
    .from(runSteps)
    .where(
      and(eq(runSteps.runId, runId), byId ? or(eq(runSteps.nodeId, ref), byId) : eq(runSteps.nodeId, ref)),
    )
    .for('update');
  if (!step) throw notFound(`Step ${ref} of run`, runId);
  return step;
}

export interface Decision {
  approved: boolean;
  comment?: string | undefined;
  decidedBy: string;
}

/** Decides a waiting approval: the step completes with the decision (or fails the run when rejected). */
export async function decideApproval(tx: Tx, runId: string, stepRef: string, decision: Decision) {
  const run = await lockRun(tx, runId);
  const step = await findStep(tx, runId, stepRef);
  if (step.status !== 'waiting' || step.wait?.kind !== 'approval') {
    throw new AppError(
      409,
      'not_waiting_for_approval',
      `Step ${step.nodeId} is not waiting for an approval (it is ${step.status})`,
      {
        details: { status: step.status },
      },
    );
  }
  const record = {
    approved: decision.approved,
    comment: decision.comment ?? null,
    decidedBy: decision.decidedBy,
    decidedAt: new Date().toISOString(),
    timedOut: false,
  };
  await tx
    .update(runSteps)
    .set({
      status: 'ready',
      availableAt: new Date(),
      updatedAt: new Date(),
      wait: { ...step.wait, resumed: true, decision: record },
    })
    .where(eq(runSteps.id, step.id));
  await unpauseApprovedRuns(tx, [runId]);
  await notify(tx, CHANNELS.wake);
  await notify(tx, CHANNELS.runEvents, [runId]);
  return { run: await getRun(tx, run.id), nodeId: step.nodeId, decision: record };
}

/** Pauses a run: steps in flight finish, nothing new starts until it is resumed. */
export async function pauseRun(tx: Tx, runId: string): Promise<RunRow> {
  const run = await lockRun(tx, runId);
  assertTransition(run.status as RunStatus, 'paused');
  await tx
    .update(workflowExecutions)
    .set({ status: 'paused', pausedAt: new Date(), statusReason: 'paused by a user', updatedAt: new Date() })
    .where(eq(workflowExecutions.id, runId));
  await notify(tx, CHANNELS.runEvents, [runId]);
  return getRun(tx, runId);
}

/** Resumes a run a user paused. A run paused for an approval resumes when someone decides it. */
export async function resumeRun(tx: Tx, runId: string): Promise<RunRow> {
  const run = await lockRun(tx, runId);
  assertTransition(run.status as RunStatus, 'running');
  if (run.statusReason?.startsWith('waiting for approval')) {
    throw new AppError(
      409,
      'waiting_for_approval',
      `The run waits for an approval (${run.statusReason.slice(22)}): approve or reject that step`,
    );
  }
  await tx
    .update(workflowExecutions)
    .set({
      status: run.startedAt ? 'running' : 'pending',
      resumedAt: new Date(),
      statusReason: null,
      updatedAt: new Date(),
    })
    .where(eq(workflowExecutions.id, runId));
  await notify(tx, CHANNELS.wake);
  await notify(tx, CHANNELS.runEvents, [runId]);
  return getRun(tx, runId);
}

/**
 * Retries a failed (or timed-out) run from its failed steps, keeping every completed output: failed steps
 * run again with a fresh retry budget, steps the failure cancelled wait for their inputs again. Counts
 * against the run's max_retries, not against the organization's quota.
 */
export async function retryRun(
  tx: Tx,
  runId: string,
  compiled: CompiledVersion,
  timeoutMs: number,
): Promise<RunRow> {
  const run = await lockRun(tx, runId);
  if (run.status !== 'failed' && run.status !== 'timeout') {
    throw new AppError(
      409,
      'invalid_transition',
      `Only a failed or timed-out run can be retried; this one is ${run.status}`,
      {
        details: { from: run.status },
      },
    );
  }
  if (run.retryCount >= run.maxRetries) {
    throw new AppError(
      409,
      'retries_exhausted',
      `The run was retried ${run.retryCount} times, its limit (max_retries ${run.maxRetries}): start a new run`,
    );
  }
  const steps = await tx.select().from(runSteps).where(eq(runSteps.runId, runId));
  for (const s of steps) {
    if (s.status !== 'failed' && s.status !== 'cancelled' && s.status !== 'running') continue;
    const entry = compiled.graph.incoming.get(s.nodeId)?.length === 0;
    const ready = s.pendingInputs === 0 && (entry || s.liveInputs > 0);
    await tx
      .update(runSteps)
      .set({
        status: ready ? 'ready' : 'pending',
        failures: 0,
        error: null,
        wait: null,
        availableAt: new Date(),
        completedAt: null,
        leaseOwner: null,
        leaseExpiresAt: null,
        updatedAt: new Date(),
      })
      .where(eq(runSteps.id, s.id));
  }
  await tx
    .update(workflowExecutions)
    .set({
      status: 'pending',
      retryCount: run.retryCount + 1,
      errorCode: null,
      errorMessage: null,
      statusReason: `retry ${run.retryCount + 1}`,
      completedAt: null,
      durationMs: null,
      outputData: null,
      timeoutAt: new Date(Date.now() + timeoutMs),
      updatedAt: new Date(),
    })
    .where(eq(workflowExecutions.id, runId));
  await notify(tx, CHANNELS.wake);
  await notify(tx, CHANNELS.runEvents, [runId]);
  return getRun(tx, runId);
}

/**
 * The steps of a re-run from `fromStep`: that node and everything downstream of it run again (with `input`
 * overriding that node's rendered prompt if given); every other node keeps its output from the old run.
 * Nodes that did not complete in the old run run again too, with what depends on them.
 */
export async function rerunSeeds(
  tx: Tx,
  old: RunRow,
  compiled: CompiledVersion,
  fromStep: string,
  input?: { prompt?: string | undefined; system?: string | undefined },
): Promise<{ steps: StepSeed[]; remaining: number; completed: number }> {
  const { graph } = compiled;
  if (!graph.nodes.has(fromStep)) {
    throw new AppError(400, 'unknown_step', `Version ${old.workflowVersion} has no node "${fromStep}"`, {
      details: { nodes: [...graph.nodes.keys()] },
    });
  }
  if (input && (input.prompt !== undefined || input.system !== undefined)) checkEdit(graph, fromStep, input);
  const rows = await tx.select().from(runSteps).where(eq(runSteps.runId, old.id));
  const before = new Map(rows.map((r) => [r.nodeId, r]));
  for (const a of ancestors(graph, fromStep)) {
    const st = before.get(a)?.status;
    if (st !== 'completed' && st !== 'skipped') {
      throw new AppError(
        409,
        'upstream_incomplete',
        `Node ${a}, upstream of ${fromStep}, did not complete in run ${old.id} (${st ?? 'missing'}): re-run from ${a} instead`,
      );
    }
  }
  const again = new Set<string>([fromStep]);
  for (const [id, r] of before) if (r.status !== 'completed' && r.status !== 'skipped') again.add(id);
  const stack = [...again];
  while (stack.length) {
    for (const e of graph.outgoing.get(stack.pop()!) ?? []) {
      if (!again.has(e.to)) {
        again.add(e.to);
        stack.push(e.to);
      }
    }
  }
  const outputs = Object.fromEntries([...before].map(([id, r]) => [id, { output: r.output }]));
  const context = {
    input: old.inputData,
    variables: graph.definition.variables ?? {},
    nodes: outputs,
    run: { id: old.id },
  };
  const steps: StepSeed[] = [];
  let completed = 0;
  for (const nodeId of graph.nodes.keys()) {
    const r = before.get(nodeId)!;
    if (!again.has(nodeId)) {
      steps.push({
        node_id: nodeId,
        status: r.status as 'completed' | 'skipped',
        pending_inputs: 0,
        output: r.output ?? null,
      });
      if (r.status === 'completed') completed++;
      continue;
    }
    let pending = 0;
    let live = 0;
    for (const e of graph.incoming.get(nodeId) ?? []) {
      if (again.has(e.from)) pending++;
      else if (before.get(e.from)?.status === 'completed' && (!e.compiled || e.compiled(context))) live++;
    }
    const ready = nodeId === fromStep || (pending === 0 && (live > 0 || !graph.incoming.get(nodeId)?.length));
    steps.push({
      node_id: nodeId,
      status: ready ? 'ready' : 'pending',
      pending_inputs: nodeId === fromStep ? 0 : pending,
      live_inputs: live,
      wait:
        nodeId === fromStep && input && (input.prompt !== undefined || input.system !== undefined)
          ? { input }
          : null,
    });
  }
  return { steps, remaining: again.size, completed };
}

/**
 * An edited prompt is a template like the node's own, rendered when the step runs with the same context
 * (input, variables, upstream outputs, item): so it must parse and read only nodes upstream of the step.
 */
function checkEdit(graph: Graph, fromStep: string, input: { prompt?: string; system?: string }): void {
  const node = graph.nodes.get(fromStep)!;
  if (node.type !== 'agent') {
    throw new AppError(
      400,
      'invalid_rerun_input',
      `input edits an agent's prompt, and node "${fromStep}" is a ${node.type} node: re-run it without input`,
    );
  }
  const upstream = ancestors(graph, fromStep);
  for (const field of ['prompt', 'system'] as const) {
    const text = input[field];
    if (text === undefined) continue;
    let message: string | undefined;
    try {
      parseTemplate(text);
      const ref = templateNodeRefs(text).find((r) => !upstream.has(r));
      if (ref) message = `reads nodes.${ref}, which is not upstream of "${fromStep}"`;
    } catch (e) {
      if (!(e instanceof TemplateError)) throw e;
      message = `bad template: ${e.message}`;
    }
    if (message) {
      throw new AppError(400, 'invalid_rerun_input', `input.${field}: ${message}`, {
        details: { issues: [{ path: `input.${field}`, message }] },
      });
    }
  }
}

/** How many runs of an organization are waiting for approvals (for dashboards and tests). */
export async function waitingApprovals(
  tx: Tx,
  runId: string,
): Promise<{ nodeId: string; message: unknown; requestedAt: unknown; deadline: unknown }[]> {
  const rows = await queryRows<{ node_id: string; wait: Record<string, unknown> }>(
    tx,
    sql`SELECT node_id, wait FROM run_steps WHERE run_id = ${runId} AND status = 'waiting' AND wait->>'kind' = 'approval'`,
  );
  return rows.map((r) => ({
    nodeId: r.node_id,
    message: r.wait.message ?? null,
    requestedAt: r.wait.requestedAt ?? null,
    deadline: r.wait.deadline ?? null,
  }));
}
