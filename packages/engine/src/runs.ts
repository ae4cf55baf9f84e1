import {
  AppError,
  assertTransition,
  notFound,
  type RunStatus,
  renderString,
  validateRunInput,
} from '@aiops/core';
import {
  type AgentPins,
  agents,
  agentVersions,
  type Database,
  type TriggerKind,
  type Tx,
  workflowExecutions,
} from '@aiops/db';
import { and, eq } from 'drizzle-orm';
import { Catalog, type CompiledVersion } from './catalog.ts';
import { rerunSeeds } from './control.ts';
import { type LocalExecutor, RunCreator } from './run-creator.ts';
import { getRun, type RunRow } from './run-rows.ts';
import type { InsertOutcome } from './sql/create-run.ts';
import { stopRuns } from './sql/maintenance.ts';
import { type Logger, silentLogger } from './types.ts';
import { getWorkflow } from './workflows.ts';

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
  parentStepId?: string | null;
  idempotencyKey?: string | null;
  externalTriggerId?: string | null;
  metadata?: Record<string, unknown>;
}

export interface StartedRun {
  id: string;
  /** False when the idempotency key matched an earlier run, which is returned instead. */
  created: boolean;
  version: number;
  /**
   * The run's row as this call inserted it (absent for an idempotent replay): an answer without a read.
   * Its status is `queued` when the workflow's concurrency limit made it wait its turn.
   */
  run?: RunRow;
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
  private readonly loading = new Map<string, Promise<WorkflowInfo>>();

  constructor(
    private readonly db: Database,
    log: Logger = silentLogger,
    /** The clock of monthly quotas (tests move it). */
    private readonly now: () => Date = () => new Date(),
  ) {
    this.creator = new RunCreator(db, 256, log, now);
  }

  /** A started run from an insert outcome; undefined when the workflow changed or vanished meanwhile. */
  private outcome(outcome: InsertOutcome, version: number): StartedRun | undefined {
    if (outcome.kind === 'created') return { id: outcome.id, created: true, version, run: outcome.run };
    if (outcome.kind === 'duplicate') return { id: outcome.id, created: false, version };
    if (outcome.kind === 'quota_exceeded') {
      throw new AppError(
        429,
        'quota_exceeded',
        "The organization's monthly execution quota is used up; it resets on the first of next month, or upgrade the plan",
        { details: { retryAfterSeconds: secondsToNextMonth(this.now()) } },
      );
    }
    if (outcome.kind === 'concurrency_limited') {
      throw new AppError(
        429,
        'concurrency_limit',
        'The workflow already runs as many runs at once as it allows; try again when one ends',
        {
          retryable: true,
          details: { retryAfterSeconds: 1 },
        },
      );
    }
    return undefined;
  }

  /**
   * A new run of the same version and input that reuses the old run's outputs upstream of `fromStep` and
   * runs that step and everything after it (the debugging loop), linked to the old run.
   */
  async rerun(input: RerunInput): Promise<StartedRun> {
    const { organizationId } = input;
    const prepared = await this.db.withTenant(organizationId, async (tx) => {
      const old = await getRun(tx, input.runId);
      const wf = await getWorkflow(tx, old.workflowId);
      const compiled = await this.catalog.version(tx, old.workflowId, old.workflowVersion);
      const seeds = await rerunSeeds(tx, old, compiled, input.fromStep, input.input);
      return { old, wf, compiled, seeds };
    });
    const { old, wf, compiled, seeds } = prepared;
    const outcome = await this.creator.create({
      organizationId,
      compiled,
      expectCurrentVersion: false,
      input: old.inputData,
      agentPins: old.agentPins,
      triggeredBy: 'manual',
      userId: input.userId ?? null,
      apiKeyId: input.apiKeyId ?? null,
      correlationId: old.correlationId,
      concurrencyKey: concurrencyKeyOf(compiled, old.inputData),
      timeoutMs: compiled.graph.definition.settings?.timeoutMs ?? wf.executionTimeout * 1000,
      maxRetries: wf.maxRetries,
      metadata: { rerunOf: old.id, fromStep: input.fromStep },
      steps: seeds.steps,
      remainingNodes: seeds.remaining,
      stepsCompleted: seeds.completed,
      rerunOf: old.id,
    });
    const started = this.outcome(outcome, old.workflowVersion);
    if (!started) throw notFound('Workflow', old.workflowId);
    return started;
  }

  /**
   * Runs started here go straight to this worker (same process) while it has capacity: their entry steps
   * are leased to it in the transaction that creates them. `undefined` turns it off.
   */
  useLocalWorker(worker: LocalExecutor | undefined): void {
    this.creator.local = worker;
  }

  /** Forget what is cached of a workflow (after a save in this process). */
  invalidate(organizationId: string, workflowId: string): void {
    this.info.delete(`${organizationId}:${workflowId}`);
    this.loading.delete(`${organizationId}:${workflowId}`);
  }

  /**
   * The workflow's current version and limits, read once for all the calls that need them at the same
   * time (when the cached entry expires under load, one read instead of one per request).
   */
  private loadInfo(input: StartRunInput, key: string, fresh: boolean): Promise<WorkflowInfo> {
    const inFlight = fresh ? undefined : this.loading.get(key);
    if (inFlight) return inFlight;
    const load = this.db
      .withTenant(input.organizationId, (tx) => getWorkflow(tx, input.workflowId))
      .then((wf) => {
        const info = {
          version: wf.version,
          executionTimeout: wf.executionTimeout,
          maxRetries: wf.maxRetries,
          at: Date.now(),
        };
        this.info.set(key, info);
        return info;
      })
      .finally(() => {
        if (this.loading.get(key) === load) this.loading.delete(key);
      });
    this.loading.set(key, load);
    return load;
  }

  async start(input: StartRunInput): Promise<StartedRun> {
    for (let attempt = 0; ; attempt++) {
      const key = `${input.organizationId}:${input.workflowId}`;
      let info = this.info.get(key);
      if (!info || Date.now() - info.at > INFO_TTL_MS || attempt > 0)
        info = await this.loadInfo(input, key, attempt > 0);
      const version = input.version ?? info.version;
      const missing = () =>
        new AppError(
          400,
          'bad_request',
          `Workflow ${input.workflowId} has no version ${version} (its current version is ${info.version})`,
        );
      if (!Number.isInteger(version) || version < 1) throw missing();
      // A version above the current one is a candidate (saved, not yet current) when it exists.
      const compiled =
        this.catalog.cachedVersion(input.workflowId, version) ??
        (await this.db
          .withTenant(input.organizationId, (tx) => this.catalog.version(tx, input.workflowId, version))
          .catch((e: unknown) => {
            if (version > info.version) throw missing();
            throw e;
          }));
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
        parentStepId: input.parentStepId ?? null,
        concurrencyKey: concurrencyKeyOf(compiled, runInput),
        idempotencyKey: input.idempotencyKey ?? null,
        externalTriggerId: input.externalTriggerId ?? null,
        timeoutMs: compiled.graph.definition.settings?.timeoutMs ?? info.executionTimeout * 1000,
        maxRetries: info.maxRetries,
        ...(input.metadata ? { metadata: input.metadata } : {}),
      });
      const started = this.outcome(outcome, version);
      if (started) return started;
      this.info.delete(key);
      if (outcome.kind === 'workflow_missing') throw notFound('Workflow', input.workflowId);
      if (attempt >= 3)
        throw new AppError(409, 'conflict', 'The workflow changed while the run was starting; try again', {
          retryable: true,
        });
    }
  }
}

export interface RerunInput {
  organizationId: string;
  runId: string;
  fromStep: string;
  /** Overrides of the step's rendered prompt (agent nodes). */
  input?: { prompt?: string | undefined; system?: string | undefined };
  userId?: string | null;
  apiKeyId?: string | null;
}

/** The run's concurrency key: the workflow's `settings.concurrencyKey` template rendered on the input. */
function concurrencyKeyOf(compiled: CompiledVersion, input: unknown): string | null {
  const template = compiled.graph.definition.settings?.concurrencyKey;
  if (!template) return null;
  const v = renderString(template, { input, variables: compiled.graph.definition.variables ?? {} });
  if (v === null || v === undefined || v === '') return null;
  return (typeof v === 'string' ? v : JSON.stringify(v)).slice(0, 255);
}

function secondsToNextMonth(now: Date): number {
  const next = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1);
  return Math.max(1, Math.ceil((next - now.getTime()) / 1000));
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

export { type AttemptRow, getRun, getRunDetail, type RunRow, type StepRow } from './run-rows.ts';
