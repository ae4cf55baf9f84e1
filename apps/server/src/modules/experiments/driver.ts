import { isAppError, type ModelPort } from '@aiops/core';
import { type Database, datasetItems, experimentItems, experiments, queryRows } from '@aiops/db';
import type { Logger, Runs } from '@aiops/engine';
import { and, eq, inArray, sql } from 'drizzle-orm';
import { evaluateSample } from '../evaluations/evaluate.ts';
import { loadSample } from '../evaluations/repo.ts';
import type { EvaluationEmbedder } from '../evaluations/similarity.ts';
import type { ItemScore } from './figures.ts';
import { type ExperimentRow, evaluatorsOf, findExperiment } from './repo.ts';

export interface DriverOptions {
  /** How long a process holds an experiment it advances before another may take it over. */
  leaseMs: number;
  /** Experiments advanced per pass. */
  batch: number;
}

export const DEFAULT_DRIVER_OPTIONS: DriverOptions = { leaseMs: 60_000, batch: 10 };

/** The idempotency key of an item's run: a restarted driver finds the run it started, never a second one. */
export const itemRunKey = (itemId: string) => `experiment:${itemId}`;

interface Deps {
  db: Database;
  runs: Runs;
  model: ModelPort;
  /** Embeddings for embedding-similarity evaluators (the same path as online evaluation). */
  embed: EvaluationEmbedder;
  log?: Logger | undefined;
}

/**
 * Scores the items whose runs finished (outside any transaction: judges call models), then starts pending
 * items up to the experiment's parallelism, then completes the experiment when nothing is left. Every
 * step is recorded before the next, and a run is started with the item's idempotency key, so a process
 * that dies anywhere in here is replaced by the next one without losing or doubling an item.
 */
export async function advanceExperiment(
  deps: Deps,
  org: string,
  id: string,
  signal?: AbortSignal,
): Promise<void> {
  const { db } = deps;
  const { exp, finished } = await db.withTenant(org, async (tx) => {
    const exp = await findExperiment(tx, id);
    const finished = await queryRows<{
      id: string;
      run_id: string;
      run_status: string;
      error: string | null;
    }>(
      tx,
      sql`SELECT i.id, i.run_id, e.status AS run_status, e.error_message AS error
          FROM experiment_items i JOIN workflow_executions e ON e.id = i.run_id
          WHERE i.experiment_id = ${id} AND i.status = 'running' AND e.status IN ('completed','failed','cancelled','timeout')`,
    );
    return { exp, finished };
  });
  if (exp.status !== 'running') return;
  for (const f of finished) {
    if (signal?.aborted) return;
    await scoreItem(deps, exp, f);
  }
  await startPending(deps, exp);
  await db.withTenant(org, async (tx) => {
    const [left] = await queryRows<{ n: number }>(
      tx,
      sql`SELECT count(*)::int AS n FROM experiment_items WHERE experiment_id = ${id} AND status <> 'scored'`,
    );
    if (left?.n === 0)
      await tx
        .update(experiments)
        .set({ status: 'completed', completedAt: new Date(), updatedAt: new Date() })
        .where(and(eq(experiments.id, id), eq(experiments.status, 'running')));
  });
}

async function scoreItem(
  deps: Deps,
  exp: ExperimentRow,
  f: { id: string; run_id: string; run_status: string; error: string | null },
) {
  const org = exp.organizationId;
  const { sample, expected } = await deps.db.withTenant(org, async (tx) => {
    const [row] = await tx
      .select({ expected: datasetItems.expectedOutput })
      .from(experimentItems)
      .innerJoin(datasetItems, eq(datasetItems.id, experimentItems.datasetItemId))
      .where(eq(experimentItems.id, f.id));
    return { sample: await loadSample(tx, f.run_id), expected: row?.expected ?? null };
  });
  const scores: ItemScore[] = [];
  let cost = 0;
  const errors: string[] = [];
  for (const def of evaluatorsOf(exp)) {
    if (f.run_status !== 'completed') {
      scores.push({
        evaluatorId: def.evaluatorId,
        name: def.name,
        score: 0,
        passed: false,
        explanation: `the run ${f.run_status}${f.error ? `: ${f.error.slice(0, 300)}` : ''}`,
      });
      continue;
    }
    try {
      const o = await evaluateSample(
        def,
        { ...sample, expected },
        {
          model: deps.model,
          embed: deps.embed,
          organizationId: org,
          idempotencyKey: `experiment:${f.id}:${def.evaluatorId}:${def.version}`,
        },
      );
      cost += Number(o.costUsd);
      scores.push({
        evaluatorId: def.evaluatorId,
        name: def.name,
        score: o.score,
        passed: o.passed,
        explanation: o.explanation,
      });
    } catch (e) {
      const message = (e instanceof Error ? e.message : String(e)).slice(0, 500);
      if (isAppError(e) && e.retryable) throw e;
      errors.push(`${def.name}: ${message}`);
      scores.push({
        evaluatorId: def.evaluatorId,
        name: def.name,
        score: null,
        passed: false,
        explanation: message,
      });
    }
  }
  await deps.db.withTenant(org, async (tx) => {
    const updated = await tx
      .update(experimentItems)
      .set({
        status: 'scored',
        runStatus: f.run_status,
        output: sample.output ?? null,
        scores: scores as unknown as Record<string, unknown>[],
        latencyMs: sample.latencyMs ?? null,
        costUsd: ((sample.costUsd ?? 0) + cost).toFixed(6),
        tokens: sample.tokens ?? 0,
        error: errors.length ? errors.join('; ').slice(0, 2_000) : null,
        updatedAt: new Date(),
      })
      .where(and(eq(experimentItems.id, f.id), eq(experimentItems.status, 'running')))
      .returning({ id: experimentItems.id });
    if (updated.length)
      await tx
        .update(experiments)
        .set({ doneItems: sql`${experiments.doneItems} + 1`, updatedAt: new Date() })
        .where(eq(experiments.id, exp.id));
  });
}

async function startPending(deps: Deps, exp: ExperimentRow) {
  const org = exp.organizationId;
  const pending = await deps.db.withTenant(org, async (tx) => {
    const [running] = await queryRows<{ n: number }>(
      tx,
      sql`SELECT count(*)::int AS n FROM experiment_items WHERE experiment_id = ${exp.id} AND status = 'running'`,
    );
    const slots = exp.parallelism - (running?.n ?? 0);
    if (slots <= 0) return [];
    return tx
      .select({
        id: experimentItems.id,
        input: datasetItems.input,
        datasetItemId: experimentItems.datasetItemId,
      })
      .from(experimentItems)
      .innerJoin(datasetItems, eq(datasetItems.id, experimentItems.datasetItemId))
      .where(and(eq(experimentItems.experimentId, exp.id), eq(experimentItems.status, 'pending')))
      .orderBy(experimentItems.position)
      .limit(slots);
  });
  for (const p of pending) {
    try {
      const started = await deps.runs.start({
        organizationId: org,
        workflowId: exp.workflowId,
        version: exp.workflowVersion,
        input: p.input,
        triggeredBy: 'internal',
        userId: exp.createdBy,
        idempotencyKey: itemRunKey(p.id),
        metadata: { experimentId: exp.id, datasetItemId: p.datasetItemId },
      });
      await deps.db.withTenant(org, (tx) =>
        tx
          .update(experimentItems)
          .set({ status: 'running', runId: started.id, updatedAt: new Date() })
          .where(and(eq(experimentItems.id, p.id), eq(experimentItems.status, 'pending'))),
      );
    } catch (e) {
      if (isAppError(e) && (e.retryable || e.status === 429)) {
        deps.log?.warn({ experimentId: exp.id, err: e.message }, 'experiment item could not start yet');
        return;
      }
      // The item cannot run (its input does not fit the workflow, the version is gone): scored as failed.
      const message = (e instanceof Error ? e.message : String(e)).slice(0, 2_000);
      await deps.db.withTenant(org, async (tx) => {
        const done = await tx
          .update(experimentItems)
          .set({
            status: 'scored',
            runStatus: 'not_started',
            error: message,
            scores: evaluatorsOf(exp).map((d) => ({
              evaluatorId: d.evaluatorId,
              name: d.name,
              score: 0,
              passed: false,
              explanation: `the run could not start: ${message.slice(0, 300)}`,
            })),
            updatedAt: new Date(),
          })
          .where(and(eq(experimentItems.id, p.id), eq(experimentItems.status, 'pending')))
          .returning({ id: experimentItems.id });
        if (done.length)
          await tx
            .update(experiments)
            .set({ doneItems: sql`${experiments.doneItems} + 1`, updatedAt: new Date() })
            .where(eq(experiments.id, exp.id));
      });
    }
  }
}

/**
 * One pass: claims running experiments whose lease is free (SKIP LOCKED shares them between worker
 * processes), advances each, and frees the lease. A process that dies keeps its lease until it expires.
 */
export async function experimentPass(
  deps: Deps,
  options: Partial<DriverOptions> = {},
  signal?: AbortSignal,
): Promise<number> {
  const opts = { ...DEFAULT_DRIVER_OPTIONS, ...options };
  const claimed = await deps.db.system((tx) =>
    queryRows<{ id: string; organization_id: string }>(
      tx,
      sql`UPDATE experiments SET lease_until = now() + ${`${opts.leaseMs} milliseconds`}::interval
          WHERE id IN (SELECT id FROM experiments WHERE status = 'running' AND lease_until <= now()
                       ORDER BY lease_until LIMIT ${opts.batch} FOR UPDATE SKIP LOCKED)
          RETURNING id, organization_id`,
    ),
  );
  for (const c of claimed) {
    if (signal?.aborted) break;
    try {
      await advanceExperiment(deps, c.organization_id, c.id, signal);
    } catch (e) {
      deps.log?.warn(
        { experimentId: c.id, err: e instanceof Error ? e.message : String(e) },
        'experiment pass failed',
      );
    }
    if (signal?.aborted) break;
    await deps.db.system((tx) =>
      tx
        .update(experiments)
        .set({ leaseUntil: new Date() })
        .where(inArray(experiments.id, [c.id])),
    );
  }
  return claimed.length;
}

/** The worker process's experiment loop: a pass every `intervalMs`. */
export class ExperimentLoop {
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  readonly #abort = new AbortController();

  constructor(
    private readonly deps: Deps,
    private readonly intervalMs = 500,
    private readonly options: Partial<DriverOptions> = {},
  ) {}

  start(): void {
    this.#schedule(0);
  }

  #schedule(ms: number) {
    if (this.#abort.signal.aborted) return;
    this.#timer = setTimeout(() => {
      this.#running = this.#tick();
    }, ms);
    this.#timer.unref?.();
  }

  async #tick() {
    try {
      await experimentPass(this.deps, this.options, this.#abort.signal);
    } catch (e) {
      this.deps.log?.error({ err: e }, 'experiment pass failed');
    }
    this.#schedule(this.intervalMs);
  }

  /** Stops between items (a run already started keeps running; the next process scores it). */
  async stop(): Promise<void> {
    this.#abort.abort();
    clearTimeout(this.#timer);
    await this.#running;
  }
}
