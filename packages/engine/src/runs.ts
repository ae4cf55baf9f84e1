import { AppError, assertTransition, notFound, type RunStatus, validateRunInput } from '@aiops/core';
import {
  type AgentPins,
  agentExecutions,
  agents,
  agentVersions,
  type Database,
  runEvents,
  runSteps,
  type TriggerKind,
  type Tx,
  workflowExecutions,
} from '@aiops/db';
import { and, asc, eq, gt } from 'drizzle-orm';
import type { Catalog, CompiledVersion } from './catalog.ts';
import { insertEvents } from './events.ts';
import { type CreatedRun, insertRun } from './sql/create-run.ts';
import { stopRuns } from './sql/maintenance.ts';
import { CHANNELS } from './types.ts';
import { getWorkflow } from './workflows.ts';

export type RunRow = typeof workflowExecutions.$inferSelect;
export type StepRow = typeof runSteps.$inferSelect;
export type AttemptRow = typeof agentExecutions.$inferSelect;
export type EventRow = typeof runEvents.$inferSelect;

export interface StartRunInput {
  organizationId: string;
  workflowId: string;
  input: unknown;
  /** A version other than the current one. */
  version?: number;
  triggeredBy?: TriggerKind;
  userId?: string | null;
  apiKeyId?: string | null;
  correlationId?: string;
  parentExecutionId?: string | null;
  idempotencyKey?: string | null;
  externalTriggerId?: string | null;
  metadata?: Record<string, unknown>;
}

/**
 * Starts a run of a workflow: checks the input against the version's input schema (400 with each field,
 * nothing stored), pins the agents the nodes reference, inserts the run and wakes the workers.
 */
export async function startRun(
  tx: Tx,
  catalog: Catalog,
  input: StartRunInput,
): Promise<CreatedRun & { version: number }> {
  const workflow = await getWorkflow(tx, input.workflowId);
  const version = input.version ?? workflow.version;
  if (!Number.isInteger(version) || version < 1 || version > workflow.version) {
    throw new AppError(
      400,
      'bad_request',
      `Workflow ${workflow.id} has versions 1 to ${workflow.version}; ${version} does not exist`,
    );
  }
  const compiled = await catalog.version(tx, workflow.id, version);
  const runInput = structuredClone(input.input ?? {});
  const issues = validateRunInput(compiled.graph.definition.input, runInput);
  if (issues.length) {
    throw new AppError(
      400,
      'invalid_input',
      `The run input does not match the workflow's input schema: ${issues.map((i) => `${i.path} ${i.message}`).join('; ')}`,
      {
        details: { issues },
      },
    );
  }
  const agentPins = await pinAgents(tx, compiled);
  const created = await insertRun(tx, {
    organizationId: input.organizationId,
    compiled,
    input: runInput,
    agentPins,
    triggeredBy: input.triggeredBy ?? 'api',
    userId: input.userId ?? null,
    apiKeyId: input.apiKeyId ?? null,
    ...(input.correlationId ? { correlationId: input.correlationId } : {}),
    parentExecutionId: input.parentExecutionId ?? null,
    idempotencyKey: input.idempotencyKey ?? null,
    externalTriggerId: input.externalTriggerId ?? null,
    timeoutMs: compiled.graph.definition.settings?.timeoutMs ?? workflow.executionTimeout * 1000,
    maxRetries: workflow.maxRetries,
    ...(input.metadata ? { metadata: input.metadata } : {}),
  });
  return { ...created, version };
}

/** Each agent node that references an org agent runs the version current now (or the one it names). */
async function pinAgents(tx: Tx, compiled: CompiledVersion): Promise<AgentPins> {
  const pins: AgentPins = {};
  for (const node of compiled.graph.definition.nodes) {
    if (node.type !== 'agent' || !node.agentId) continue;
    const [agent] = await tx
      .select({ versionNumber: agents.versionNumber, deletedAt: agents.deletedAt })
      .from(agents)
      .where(eq(agents.id, node.agentId));
    if (!agent || agent.deletedAt) {
      throw new AppError(
        400,
        'agent_not_found',
        `Node ${node.id} uses agent ${node.agentId}, which does not exist in this organization`,
        {
          details: { nodeId: node.id, agentId: node.agentId },
        },
      );
    }
    const versionNumber = node.agentVersion ?? agent.versionNumber;
    const [exists] = await tx
      .select({ id: agentVersions.id })
      .from(agentVersions)
      .where(and(eq(agentVersions.agentId, node.agentId), eq(agentVersions.versionNumber, versionNumber)));
    if (!exists) {
      throw new AppError(
        400,
        'agent_not_found',
        `Node ${node.id} pins version ${versionNumber} of agent ${node.agentId}, which does not exist`,
      );
    }
    pins[node.id] = { agentId: node.agentId, versionNumber };
  }
  return pins;
}

export async function getRun(tx: Tx, runId: string): Promise<RunRow> {
  const [run] = await tx.select().from(workflowExecutions).where(eq(workflowExecutions.id, runId));
  if (!run) throw notFound('Run', runId);
  return run;
}

export async function getRunDetail(tx: Tx, runId: string) {
  const run = await getRun(tx, runId);
  const steps = await tx.select().from(runSteps).where(eq(runSteps.runId, runId));
  const attempts = await tx
    .select()
    .from(agentExecutions)
    .where(eq(agentExecutions.workflowExecutionId, runId))
    .orderBy(asc(agentExecutions.createdAt), asc(agentExecutions.attempt));
  return { run, steps, attempts };
}

/** Cancels a run: unfinished steps stop, running ones are aborted by their workers. 409 if it is final. */
export async function cancelRun(tx: Tx, runId: string, reason = 'Cancelled by a user'): Promise<RunRow> {
  const [run] = await tx
    .select()
    .from(workflowExecutions)
    .where(eq(workflowExecutions.id, runId))
    .for('update');
  if (!run) throw notFound('Run', runId);
  assertTransition(run.status as RunStatus, 'cancelled');
  await insertEvents(tx, await stopRuns(tx, [runId], 'cancelled', 'cancelled', reason));
  return getRun(tx, runId);
}

export async function eventsSince(tx: Tx, runId: string, afterId: number, limit = 1000): Promise<EventRow[]> {
  return tx
    .select()
    .from(runEvents)
    .where(and(eq(runEvents.runId, runId), gt(runEvents.id, afterId)))
    .orderBy(asc(runEvents.id))
    .limit(limit);
}

export const FINAL = ['completed', 'failed', 'cancelled', 'timeout'];

/**
 * Waits until the run is final or `ms` pass; returns its latest row. Listens for its events (NOTIFY),
 * with a poll every 250 ms as fallback.
 */
export async function waitForRun(
  db: Database,
  organizationId: string,
  runId: string,
  ms: number,
): Promise<RunRow> {
  const read = () => db.withTenant(organizationId, (tx) => getRun(tx, runId));
  let run = await read();
  if (FINAL.includes(run.status) || ms <= 0) return run;
  let wake: (() => void) | undefined;
  const unlisten = await db.listen(CHANNELS.runEvents, (payload) => {
    if (payload.includes(runId)) wake?.();
  });
  try {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(250, Math.max(0, deadline - Date.now())));
        wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      run = await read();
      if (FINAL.includes(run.status)) return run;
    }
    return run;
  } finally {
    await unlisten();
  }
}
