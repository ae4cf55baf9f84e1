import { AppError, assertTransition, notFound, type RunStatus, validateRunInput } from '@aiops/core';
import {
  type AgentPins,
  agentExecutions,
  agents,
  agentVersions,
  type Database,
  runSteps,
  type TriggerKind,
  type Tx,
  workflowExecutions,
} from '@aiops/db';
import { and, asc, eq } from 'drizzle-orm';
import { Catalog, type CompiledVersion } from './catalog.ts';
import { RunCreator } from './run-creator.ts';
import { stopRuns } from './sql/maintenance.ts';
import { type Logger, silentLogger } from './types.ts';
import { getWorkflow } from './workflows.ts';

export type RunRow = typeof workflowExecutions.$inferSelect;
export type StepRow = typeof runSteps.$inferSelect;
export type AttemptRow = typeof agentExecutions.$inferSelect;

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

export interface StartedRun {
  id: string;
  /** False when the idempotency key matched an earlier run, which is returned instead. */
  created: boolean;
  version: number;
}

interface WorkflowInfo {
  version: number;
  executionTimeout: number;
  maxRetries: number;
  at: number;
}

/** How long a workflow's current version is trusted without asking the database (the insert re-checks it). */
const INFO_TTL_MS = 1000;

/**
 * Starting runs. The workflow's current version, compiled definition and limits are cached briefly;
 * the insert itself checks that the version is still current and that the workflow belongs to the
 * organization, so a stale cache costs a retry, never a wrong run. Inserts are batched (RunCreator).
 */
export class Runs {
  readonly catalog = new Catalog();
  private readonly creator: RunCreator;
  private readonly info = new Map<string, WorkflowInfo>();

  constructor(
    private readonly db: Database,
    log: Logger = silentLogger,
  ) {
    this.creator = new RunCreator(db, 256, log);
  }

  /** Forget what is cached of a workflow (after a save in this process). */
  invalidate(organizationId: string, workflowId: string): void {
    this.info.delete(`${organizationId}:${workflowId}`);
  }

  async start(input: StartRunInput): Promise<StartedRun> {
    for (let attempt = 0; ; attempt++) {
      const key = `${input.organizationId}:${input.workflowId}`;
      let info = this.info.get(key);
      if (!info || Date.now() - info.at > INFO_TTL_MS || attempt > 0) {
        const wf = await this.db.withTenant(input.organizationId, (tx) => getWorkflow(tx, input.workflowId));
        info = {
          version: wf.version,
          executionTimeout: wf.executionTimeout,
          maxRetries: wf.maxRetries,
          at: Date.now(),
        };
        this.info.set(key, info);
      }
      const version = input.version ?? info.version;
      if (!Number.isInteger(version) || version < 1 || version > info.version) {
        throw new AppError(
          400,
          'bad_request',
          `Workflow ${input.workflowId} has versions 1 to ${info.version}; ${version} does not exist`,
        );
      }
      const compiled =
        this.catalog.cachedVersion(input.workflowId, version) ??
        (await this.db.withTenant(input.organizationId, (tx) =>
          this.catalog.version(tx, input.workflowId, version),
        ));
      const runInput = structuredClone(input.input ?? {});
      const issues = validateRunInput(compiled.graph.definition.input, runInput);
      if (issues.length) {
        throw new AppError(
          400,
          'invalid_input',
          `The run input does not match the workflow's input schema: ${issues.map((i) => `${i.path} ${i.message}`).join('; ')}`,
          { details: { issues } },
        );
      }
      const agentPins = compiled.hasAgentRefs
        ? await this.db.withTenant(input.organizationId, (tx) => pinAgents(tx, compiled))
        : {};
      const outcome = await this.creator.create({
        organizationId: input.organizationId,
        compiled,
        expectCurrentVersion: input.version === undefined,
        input: runInput,
        agentPins,
        triggeredBy: input.triggeredBy ?? 'api',
        userId: input.userId ?? null,
        apiKeyId: input.apiKeyId ?? null,
        ...(input.correlationId ? { correlationId: input.correlationId } : {}),
        parentExecutionId: input.parentExecutionId ?? null,
        idempotencyKey: input.idempotencyKey ?? null,
        externalTriggerId: input.externalTriggerId ?? null,
        timeoutMs: compiled.graph.definition.settings?.timeoutMs ?? info.executionTimeout * 1000,
        maxRetries: info.maxRetries,
        ...(input.metadata ? { metadata: input.metadata } : {}),
      });
      if (outcome.kind === 'created') return { id: outcome.id, created: true, version };
      if (outcome.kind === 'duplicate') return { id: outcome.id, created: false, version };
      this.info.delete(key);
      if (outcome.kind === 'workflow_missing') throw notFound('Workflow', input.workflowId);
      if (attempt >= 3)
        throw new AppError(409, 'conflict', 'The workflow changed while the run was starting; try again', {
          retryable: true,
        });
    }
  }
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
    .orderBy(asc(agentExecutions.startedAt), asc(agentExecutions.attempt));
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
  await stopRuns(tx, [runId], 'cancelled', 'cancelled', reason);
  return getRun(tx, runId);
}

export const FINAL = ['completed', 'failed', 'cancelled', 'timeout'];
