import { randomUUID } from 'node:crypto';
import {
  AppError,
  backoffDelayMs,
  type CodeLimits,
  deadline,
  type ModelPort,
  PLANS,
  planFor,
} from '@aiops/core';
import { type Database, queryRows } from '@aiops/db';
import { type OutboundPolicy, outboundPolicy } from '@aiops/providers';
import { sql } from 'drizzle-orm';
import { ensureAgentWebhookSecret } from '../agent-webhook-secret.ts';
import { Catalog, type CompiledVersion } from '../catalog.ts';
import { CodeSandbox } from '../code/sandbox.ts';
import { AgentMemory } from '../memory.ts';
import { Observability } from '../observability/observability.ts';
import type { LocalExecutor } from '../run-creator.ts';
import { readRuns } from '../run-reader.ts';
import type { RunRow } from '../run-rows.ts';
import { Runs } from '../runs.ts';
import { type ClaimedStep, claimSteps } from '../sql/claim-steps.ts';
import { completeSteps, type StepOutcome } from '../sql/complete-steps.ts';
import {
  reclaimExpiredLeases,
  releaseLeases,
  renewLeases,
  resumeDueWaits,
  stoppedRuns,
  timeOutRuns,
} from '../sql/maintenance.ts';
import { TokenPublisher } from '../tokens.ts';
import { CHANNELS, DEFAULT_WORKER_OPTIONS, type Logger, silentLogger, type WorkerOptions } from '../types.ts';
import type { CompletionSink } from '../watch.ts';
import { executeStep, type StartChild } from './execute-step.ts';
import { agentWebhookAad, type ExternalAgentTarget } from './nodes/external.ts';

interface Held {
  step: ClaimedStep;
  controller: AbortController;
  compiled?: CompiledVersion;
  executing: boolean;
}

const SHUTDOWN = new Error('worker shutting down');
const LOST = new Error('lease lost');
const SWEEP_LOCK = 7_245_104_340;

/**
 * A worker: claims ready steps in batches, runs up to `concurrency` at once, records their outcomes in
 * batched transactions (a group commit: outcomes that arrive while one batch commits go in the next),
 * continues ready successors directly, renews its leases, and sweeps expired leases and run timeouts.
 */
export class Worker implements LocalExecutor {
  readonly options: WorkerOptions;
  private readonly log: Logger;
  private readonly catalog = new Catalog();
  private readonly outputs = new Map<string, unknown>();
  private readonly held = new Map<string, Held>();
  private executing = 0;
  private running = false;
  private loopDone: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private pending: StepOutcome[] = [];
  private flushing: Promise<void> | undefined;
  private timers: NodeJS.Timeout[] = [];
  private readonly runs: Runs;
  private readonly startChild: StartChild;
  private unlisten: (() => Promise<void>)[] = [];
  private readonly memory: AgentMemory;
  private readonly tokens: TokenPublisher;
  private sink: CompletionSink | undefined;
  private readonly observability: Observability;

  constructor(
    private readonly db: Database,
    private readonly model: ModelPort,
    options: Partial<WorkerOptions> = {},
    log: Logger = silentLogger,
  ) {
    this.options = { ...DEFAULT_WORKER_OPTIONS, workerId: `worker-${randomUUID().slice(0, 8)}`, ...options };
    if (options.heartbeatMs === undefined)
      this.options.heartbeatMs = Math.max(50, Math.floor(this.options.leaseMs / 3));
    this.log = log;
    this.runs = new Runs(db, log);
    this.runs.useLocalWorker(this);
    this.memory = new AgentMemory(db, this.options.embeddings);
    this.observability = new Observability(db, log, options.tracing);
    this.tokens = new TokenPublisher(db, 100, (err) => log.warn({ err }, 'streamed tokens not announced'));
    // A sub-workflow step's child run; the idempotency key makes a re-executed step find the same child.
    this.startChild = async (step, child) => {
      const started = await this.runs.start({
        organizationId: step.organizationId,
        workflowId: child.workflowId,
        ...(child.version ? { version: child.version } : {}),
        input: child.input,
        triggeredBy: 'internal',
        parentExecutionId: step.runId,
        parentStepId: step.stepId,
        correlationId: step.correlationId,
        idempotencyKey: `subworkflow:${step.runId}:${step.nodeId}`,
        metadata: {
          depth: step.depth + 1,
          parentNodeId: step.nodeId,
          ...(await this.observability.childLink(step)),
        },
      });
      return { runId: started.id };
    };
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.observability.start();
    this.unlisten.push(await this.db.listen(CHANNELS.wake, () => this.kick()));
    this.unlisten.push(await this.db.listen(CHANNELS.cancel, (payload) => this.abortRuns(parseIds(payload))));
    this.timers.push(setInterval(() => void this.heartbeat(), this.options.heartbeatMs));
    this.timers.push(setInterval(() => void this.sweep(), this.options.sweepMs));
    this.loopDone = this.loop();
  }

  /** Stops claiming, lets running steps finish for up to `drainMs`, gives the rest back to the queue. */
  async stop(drainMs = 10_000): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.kick();
    await this.loopDone;
    const deadline = Date.now() + drainMs;
    while (this.executing > 0 && Date.now() < deadline) await sleep(10);
    const unfinished = [...this.held.values()].filter((h) => h.executing);
    for (const h of unfinished) h.controller.abort(SHUTDOWN);
    await this.flushing;
    if (unfinished.length) {
      await this.db
        .system((tx) =>
          releaseLeases(
            tx,
            this.options.workerId,
            unfinished.map((h) => h.step.stepId),
          ),
        )
        .catch((err: unknown) => this.log.error({ err }, 'releasing leases failed; they will expire'));
    }
    await this.observability.stop();
    if (this.ownSandbox) await this.ownSandbox.close();
    this.ownSandbox = undefined;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    for (const u of this.unlisten) await u().catch(() => {});
    this.unlisten = [];
  }

  get workerId(): string {
    return this.options.workerId;
  }

  get leaseMs(): number {
    return this.options.leaseMs;
  }

  /** Steps it would start now: free slots, at most a claim batch (0 while stopping). */
  capacity(): number {
    if (!this.running) return 0;
    return Math.max(0, Math.min(this.options.concurrency - this.executing, this.options.claimBatch));
  }

  /**
   * Reports its completion batches to `sink` (the process's RunWatcher): calls waiting for a run this
   * worker finishes get its final row from the batch instead of reading it. `undefined` turns it off.
   */
  reportTo(sink: CompletionSink | undefined): void {
    this.sink = sink;
  }

  /** Starts steps leased to it elsewhere in this process (runs it has just created). */
  adopt(steps: ClaimedStep[]): void {
    for (const step of steps) if (!this.held.has(step.stepId)) this.begin(step);
  }

  /** Wakes the claim loop (new work, freed capacity, a retry coming due). */
  kick(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  get stats() {
    return { executing: this.executing, held: this.held.size, pendingOutcomes: this.pending.length };
  }

  private async loop(): Promise<void> {
    while (this.running) {
      const free = this.options.concurrency - this.executing;
      if (free > 0) {
        const want = Math.min(free, this.options.claimBatch);
        let claimed: ClaimedStep[] = [];
        try {
          claimed = await this.db.system((tx) =>
            claimSteps(tx, this.options.workerId, want, this.options.leaseMs),
          );
        } catch (err) {
          this.log.error({ err }, 'claiming steps failed; retrying');
        }
        for (const step of claimed) this.begin(step);
        if (claimed.length === want && this.running) continue;
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.options.pollMs);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  private begin(step: ClaimedStep): void {
    const held: Held = { step, controller: new AbortController(), executing: true };
    this.held.set(step.stepId, held);
    this.executing++;
    void this.execute(held);
  }

  private async execute(held: Held): Promise<void> {
    const { step, controller } = held;
    let outcome: StepOutcome;
    try {
      const prep = await this.prepare(step);
      held.compiled = prep.compiled;
      const node = prep.compiled.graph.nodes.get(step.nodeId)!;
      const timeout = node.timeoutMs ? deadline(controller.signal, node.timeoutMs) : undefined;
      const signal = timeout?.signal ?? controller.signal;
      const observer = this.observability.begin(step);
      outcome = await executeStep(step, {
        ...prep,
        model: observer ? observer.model(this.model) : this.model,
        observer,
        signal,
        startChild: this.startChild,
        now: () => new Date(),
        maxDepth: this.options.maxDepth,
        network: (orgId) => this.networkOf(orgId),
        externalAgent: (orgId, agentId) => this.externalAgentOf(orgId, agentId),
        code: this.code,
        mcpStdioCommands: this.options.mcpStdioCommands,
        budget: (s) => budgetLeft(s, prep.compiled.graph.definition.settings?.budgetUsd),
        memory: this.memory,
        tokens: this.tokens,
      }).finally(() => timeout?.dispose());
      if (outcome.kind === 'completed' && prep.agent?.template) this.countTemplateUse(prep.agent.template.id);
      if (outcome.kind === 'failed' && outcome.error?.retryable) {
        const policy = prep.compiled.retry.get(step.nodeId)!;
        if (step.failures + 1 < policy.maxAttempts) {
          const after = Number(outcome.error.details?.retryAfterMs ?? 0);
          outcome.retryDelayMs = Math.max(
            backoffDelayMs(policy, step.failures + 1),
            Number.isFinite(after) ? after : 0,
          );
        }
      }
      this.observability.attach(outcome, observer);
    } catch (err) {
      // Preparing failed (database unreachable, version missing): leave the step; its lease will expire.
      this.log.error({ err, step: step.stepId }, 'could not prepare step');
      held.executing = false;
      this.executing--;
      this.held.delete(step.stepId);
      this.kick();
      return;
    }
    held.executing = false;
    this.executing--;
    const reason = controller.signal.reason;
    if (reason === SHUTDOWN || reason === LOST) {
      if (reason === LOST) this.held.delete(step.stepId);
    } else {
      this.pending.push(outcome);
      this.flushing ??= this.flushLoop();
    }
    if (this.executing === this.options.concurrency - 1) this.kick();
  }

  /** A completed call of an agent made from a template counts as a use of it (and of its listing). */
  private countTemplateUse(templateId: string): void {
    this.db
      .system((tx) => tx.execute(sql`SELECT aiops_count_template_use(${templateId}::uuid)`))
      .catch((err) => this.log.warn({ err, templateId }, 'could not count a template use'));
  }

  /** The step's compiled version, pinned agent and the outputs it reads: from caches, else the database. */
  private async prepare(step: ClaimedStep) {
    const outputs: Record<string, unknown> = {};
    let compiled = this.catalog.cachedVersion(step.workflowId, step.workflowVersion);
    const pinOf = (c: CompiledVersion) => {
      const node = c.graph.nodes.get(step.nodeId);
      if (!node) throw new Error(`node ${step.nodeId} is not in version ${step.workflowVersion}`);
      return node.type === 'agent' && node.agentId ? step.agentPins[node.id] : undefined;
    };
    let pin = compiled && pinOf(compiled);
    let agent = pin && this.catalog.cachedAgent(pin.agentId, pin.versionNumber);
    const missing: string[] = [];
    const collect = (c: CompiledVersion) => {
      for (const ref of c.reads.get(step.nodeId) ?? []) {
        const key = `${step.runId}:${ref}`;
        if (this.outputs.has(key)) outputs[ref] = this.outputs.get(key);
        else missing.push(ref);
      }
    };
    if (compiled) collect(compiled);
    if (!compiled || (pin && !agent) || missing.length) {
      await this.db.system(async (tx) => {
        if (!compiled) {
          compiled = await this.catalog.version(tx, step.workflowId, step.workflowVersion);
          pin = pinOf(compiled);
          collect(compiled);
        }
        if (pin && !agent) agent = await this.catalog.agent(tx, pin.agentId, pin.versionNumber);
        if (missing.length) {
          const rows = await queryRows<{ node_id: string; output: unknown }>(
            tx,
            sql`SELECT node_id, output FROM run_steps WHERE run_id = ${step.runId}
                AND node_id = ANY(${`{${missing.join(',')}}`}::text[]) AND status = 'completed'`,
          );
          for (const r of rows) outputs[r.node_id] = r.output;
        }
      });
    }
    return { compiled: compiled!, outputs, ...(agent ? { agent } : {}) };
  }

  private async flushLoop(): Promise<void> {
    while (this.pending.length) {
      const batch = this.pending.splice(0, 500);
      await this.flush(batch);
    }
    this.flushing = undefined;
  }

  /**
   * Records a batch of outcomes (one call of `aiops_complete_steps`, one commit), then hands the runs it
   * finished to calls waiting for them in this process (one read of their rows per batch) and starts the
   * successors leased to it. Writes that must commit with the outcomes belong in that SQL function; writes
   * that follow them (logs, spans, events) belong after it here, batched per flush like the row read.
   */
  private async flush(batch: StepOutcome[]): Promise<void> {
    let continued: ClaimedStep[] = [];
    const sink = this.sink;
    const runIds = [...new Set(batch.map((o) => o.step.runId))];
    sink?.begin(runIds);
    let finished: string[] = [];
    let rows: RunRow[] = [];
    try {
      for (let attempt = 1; ; attempt++) {
        try {
          const free = Math.max(0, this.running ? this.options.concurrency - this.executing : 0);
          const result = await completeSteps(
            this.db.statement,
            this.options.workerId,
            batch,
            free,
            this.options.leaseMs,
            this.observability.payload(batch),
          );
          continued = result.continued;
          void this.observability.exported(batch, result.finishedRuns);
          finished = result.finishedRuns.map((f) => f.runId);
          for (const o of batch) {
            if (o.kind === 'completed') this.rememberOutput(`${o.step.runId}:${o.step.nodeId}`, o.output);
          }
          for (const delay of result.retryDelaysMs) {
            const t = setTimeout(() => this.kick(), delay + 5);
            t.unref();
          }
          break;
        } catch (err) {
          continued = [];
          if (attempt >= 5) {
            this.log.error(
              { err, steps: batch.length },
              'recording step outcomes failed; the steps will be retried when their leases expire',
            );
            break;
          }
          await sleep(20 * attempt);
        }
      }
      const wanted = sink && finished.length ? sink.awaited(finished) : [];
      if (wanted.length) rows = await this.finalRows(wanted);
    } finally {
      sink?.end(runIds, finished, rows);
    }
    for (const o of batch) this.held.delete(o.step.stepId);
    for (const step of continued) this.begin(step);
  }

  /** The rows of runs this worker has just finished (committed, final): one read for a batch. */
  private async finalRows(ids: string[]): Promise<RunRow[]> {
    try {
      return await readRuns(this.db, null, ids);
    } catch (err) {
      this.log.warn({ err, runs: ids.length }, 'reading finished runs failed; their waiters read them');
      return [];
    }
  }

  private readonly networks = new Map<string, { at: number; value: OutboundPolicy }>();
  private readonly tiers = new Map<string, { at: number; value: CodeLimits }>();
  private ownSandbox: CodeSandbox | undefined;

  /** Code steps' sandbox (the shared one, or this worker's, started at the first code step) and tier limits. */
  private readonly code = {
    get sandbox(): CodeSandbox {
      return this.owner.options.codeSandbox ?? this.owner.sandbox();
    },
    limits: (organizationId: string) => this.codeLimits(organizationId),
    owner: this,
  };

  private sandbox(): CodeSandbox {
    this.ownSandbox ??= new CodeSandbox(this.options.codeThreads ?? 2);
    return this.ownSandbox;
  }

  /** The code limits of the organization's tier (cached for 30 s, like its outbound policy). */
  private async codeLimits(organizationId: string): Promise<CodeLimits> {
    const hit = this.tiers.get(organizationId);
    if (hit && Date.now() - hit.at < 30_000) return hit.value;
    const [row] = await this.db.system((tx) =>
      queryRows<{ tier: string | null }>(
        tx,
        sql`SELECT subscription_tier AS tier FROM organizations WHERE id = ${organizationId}`,
      ),
    );
    const value = (planFor(row?.tier ?? '') ?? PLANS.starter).resources.code;
    this.tiers.set(organizationId, { at: Date.now(), value });
    return value;
  }

  /**
   * An organization's outbound policy for tools: its `settings.allowPrivateNetworks` with the operator's
   * private categories, cached 30 s.
   */
  /** An external agent's webhook_url and decrypted signing secret, read at each call (never cached or logged). */
  private async externalAgentOf(
    organizationId: string,
    agentId: string,
  ): Promise<ExternalAgentTarget | undefined> {
    const [row] = await this.db.withTenant(organizationId, (tx) =>
      queryRows<{ name: string; webhook_url: string | null; webhook_secret_encrypted: string | null }>(
        tx,
        sql`SELECT name, webhook_url, webhook_secret_encrypted FROM agents WHERE id = ${agentId} AND deleted_at IS NULL`,
      ),
    );
    if (!row) return undefined;
    let secret: string | null = null;
    if (row.webhook_secret_encrypted) {
      if (!this.options.secrets) {
        throw new AppError(
          500,
          'agent_not_reachable',
          `agent ${agentId} has a signing secret but this worker has no keyring to decrypt it`,
          { retryable: false },
        );
      }
      secret = this.options.secrets.decrypt(row.webhook_secret_encrypted, agentWebhookAad(agentId));
    } else if (row.webhook_url && this.options.secrets) {
      // Every external agent with a webhook_url signs its calls: one saved without a secret gets one now.
      const secrets = this.options.secrets;
      secret = await this.db.withTenant(organizationId, (tx) =>
        ensureAgentWebhookSecret(tx, secrets, organizationId, agentId),
      );
    }
    return { name: row.name, webhookUrl: row.webhook_url, secret };
  }

  private async networkOf(organizationId: string): Promise<OutboundPolicy> {
    const hit = this.networks.get(organizationId);
    if (hit && Date.now() - hit.at < 30_000) return hit.value;
    const [row] = await this.db.system((tx) =>
      queryRows<{ allow: boolean | null }>(
        tx,
        sql`SELECT (settings->>'allowPrivateNetworks')::boolean AS allow FROM organizations WHERE id = ${organizationId}`,
      ),
    );
    const value = outboundPolicy({
      allowPrivateNetworks: row?.allow === true,
      privateCategories: this.options.privateNetworkCategories,
      lookup: this.options.lookup,
    });
    this.networks.set(organizationId, { at: Date.now(), value });
    return value;
  }

  private rememberOutput(key: string, output: unknown) {
    this.outputs.set(key, output);
    if (this.outputs.size > 20_000) {
      for (const k of [...this.outputs.keys()].slice(0, 5_000)) this.outputs.delete(k);
    }
  }

  private abortRuns(runIds: string[]) {
    if (!runIds.length) return;
    const ids = new Set(runIds);
    for (const h of this.held.values())
      if (h.executing && ids.has(h.step.runId)) h.controller.abort(new Error('run stopped'));
  }

  private async heartbeat(): Promise<void> {
    const held = [...this.held.values()];
    if (!held.length) return;
    try {
      const { kept, stopped } = await this.db.system(async (tx) => ({
        kept: await renewLeases(
          tx,
          this.options.workerId,
          held.map((h) => h.step.stepId),
          this.options.leaseMs,
        ),
        stopped: await stoppedRuns(tx, [...new Set(held.map((h) => h.step.runId))]),
      }));
      for (const h of held) {
        if (!this.held.has(h.step.stepId)) continue;
        if (!kept.has(h.step.stepId) && h.executing) h.controller.abort(LOST);
        else if (stopped.has(h.step.runId) && h.executing) h.controller.abort(new Error('run stopped'));
      }
    } catch (err) {
      this.log.warn({ err }, 'heartbeat failed');
    }
  }

  private async sweep(): Promise<void> {
    try {
      await this.db.system(async (tx) => {
        const [lock] = await queryRows<{ ok: boolean }>(
          tx,
          sql`SELECT pg_try_advisory_xact_lock(${SWEEP_LOCK}) AS ok`,
        );
        if (!lock?.ok) return;
        const reclaimed = await reclaimExpiredLeases(tx, this.options.maxLostLeases, this.options.workerId, [
          ...this.held.keys(),
        ]);
        const timedOut = await timeOutRuns(tx);
        const resumed = await resumeDueWaits(tx);
        if (reclaimed || timedOut || resumed) this.log.info({ reclaimed, timedOut, resumed }, 'swept');
      });
    } catch (err) {
      this.log.warn({ err }, 'sweep failed');
    }
  }
}

/** What a run may still spend: its own budget and its organization's monthly budget, less what is spent. */
function budgetLeft(step: ClaimedStep, runBudget: number | undefined): number | undefined {
  const left: number[] = [];
  if (runBudget !== undefined) left.push(runBudget - Number(step.runSpent ?? 0));
  if (step.orgBudget !== null && step.orgBudget !== undefined)
    left.push(Number(step.orgBudget) - Number(step.orgSpent ?? 0));
  return left.length ? Math.min(...left) : undefined;
}

function parseIds(payload: string): string[] {
  try {
    const v = JSON.parse(payload) as unknown;
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
  } catch {
    return [];
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
