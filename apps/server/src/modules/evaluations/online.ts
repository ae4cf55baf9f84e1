import { isAppError } from '@aiops/core';
import { type Database, evaluationJobs, queryRows } from '@aiops/db';
import type { Logger } from '@aiops/engine';
import { eq, sql } from 'drizzle-orm';
import { evaluateSample, type ScoringPorts } from './evaluate.ts';
import { definitionOf, findEvaluator, insertResult, loadSample } from './repo.ts';

export interface OnlineOptions {
  /** Runs that finished longer ago than this are not picked up any more. */
  lookbackMs: number;
  /** Jobs claimed per pass. */
  batch: number;
  /** A job is given up (status failed) after this many attempts. */
  maxAttempts: number;
  /** How long a claimed job is leased before another process may retry it. */
  leaseMs: number;
}

export const DEFAULT_ONLINE_OPTIONS: OnlineOptions = {
  lookbackMs: 24 * 3_600_000,
  batch: 20,
  maxAttempts: 3,
  leaseMs: 5 * 60_000,
};

/** A run's share in [0, 1) for sampling, from its id and the evaluator's: the same on every pass. */
const SAMPLE = (run: string, evaluator: string) =>
  sql.raw(`(('x' || substr(md5(${run}::text || ${evaluator}::text), 1, 8))::bit(32)::bigint / 4294967296.0)`);

/**
 * Enqueues one job per attached evaluator and completed run (workflow attachments) or completed agent
 * attempt in a completed run (agent attachments), for runs that completed after the attachment was made;
 * runs outside the sampling rate are recorded as `skipped`. Runs already queued are left out by NOT EXISTS
 * (the unique key's index); concurrent passes are idempotent by ON CONFLICT DO NOTHING.
 */
export async function enqueueFinished(db: Database, opts: OnlineOptions): Promise<number> {
  const since = new Date(Date.now() - opts.lookbackMs).toISOString();
  return db.system(async (tx) => {
    const rows = await queryRows<{ n: number }>(
      tx,
      sql`WITH ins AS (
        INSERT INTO evaluation_jobs (organization_id, evaluator_id, workflow_execution_id, agent_execution_id, status)
        SELECT e.organization_id, a.evaluator_id, e.id, NULL,
          CASE WHEN ${SAMPLE('e.id', 'a.evaluator_id')} < a.sampling_rate THEN 'pending' ELSE 'skipped' END
        FROM evaluator_attachments a
          JOIN evaluators v ON v.id = a.evaluator_id AND v.deleted_at IS NULL
          JOIN workflow_executions e ON e.workflow_id = a.workflow_id AND e.organization_id = a.organization_id
        WHERE a.workflow_id IS NOT NULL AND e.status = 'completed' AND e.created_at >= ${since}::timestamptz
          AND e.completed_at >= a.created_at
          AND NOT EXISTS (SELECT 1 FROM evaluation_jobs j WHERE j.evaluator_id = a.evaluator_id
            AND j.workflow_execution_id = e.id AND j.agent_execution_id IS NULL)
        UNION ALL
        SELECT x.organization_id, a.evaluator_id, x.workflow_execution_id, x.id,
          CASE WHEN ${SAMPLE('x.id', 'a.evaluator_id')} < a.sampling_rate THEN 'pending' ELSE 'skipped' END
        FROM evaluator_attachments a
          JOIN evaluators v ON v.id = a.evaluator_id AND v.deleted_at IS NULL
          JOIN agent_executions x ON x.agent_id = a.agent_id AND x.organization_id = a.organization_id
            AND x.status = 'completed'
          JOIN workflow_executions e ON e.id = x.workflow_execution_id
        WHERE a.agent_id IS NOT NULL AND e.status = 'completed' AND x.created_at >= ${since}::timestamptz
          AND e.completed_at >= a.created_at
          AND NOT EXISTS (SELECT 1 FROM evaluation_jobs j WHERE j.evaluator_id = a.evaluator_id
            AND j.workflow_execution_id = x.workflow_execution_id AND j.agent_execution_id = x.id)
        ON CONFLICT DO NOTHING
        RETURNING 1) SELECT count(*)::int AS n FROM ins`,
    );
    return rows[0]?.n ?? 0;
  });
}

interface Claimed {
  id: string;
  organization_id: string;
  evaluator_id: string;
  workflow_execution_id: string;
  agent_execution_id: string | null;
  attempts: number;
}

/**
 * Claims due jobs (lease: `available_at` moves forward, SKIP LOCKED shares the work between processes),
 * scores each outside any transaction, and stores the result with the job marked done in one tenant
 * transaction. A failure is retried after a backoff, then recorded as `failed` with its error; the run
 * itself is never touched.
 */
export async function processJobs(
  db: Database,
  ports: ScoringPorts,
  opts: OnlineOptions,
  log?: Logger,
  signal?: AbortSignal,
): Promise<{ done: number; failed: number }> {
  const claimed = await db.system((tx) =>
    queryRows<Claimed>(
      tx,
      sql`UPDATE evaluation_jobs SET attempts = attempts + 1,
            available_at = now() + ${`${opts.leaseMs} milliseconds`}::interval, updated_at = now()
          WHERE id IN (SELECT id FROM evaluation_jobs WHERE status = 'pending' AND available_at <= now()
                       ORDER BY available_at LIMIT ${opts.batch} FOR UPDATE SKIP LOCKED)
          RETURNING id, organization_id, evaluator_id, workflow_execution_id, agent_execution_id, attempts`,
    ),
  );
  let done = 0;
  let failed = 0;
  for (const job of claimed) {
    if (signal?.aborted) break;
    try {
      const { def, sample } = await db.withTenant(job.organization_id, async (tx) => ({
        def: definitionOf(await findEvaluator(tx, job.evaluator_id)),
        sample: await loadSample(tx, job.workflow_execution_id, job.agent_execution_id),
      }));
      const outcome = await evaluateSample(def, sample, {
        ...ports,
        organizationId: job.organization_id,
        idempotencyKey: `evaljob:${job.id}:${job.attempts}`,
        ...(signal ? { signal } : {}),
      });
      await db.withTenant(job.organization_id, async (tx) => {
        await insertResult(tx, {
          organizationId: job.organization_id,
          runId: job.workflow_execution_id,
          agentExecutionId: job.agent_execution_id,
          def,
          outcome,
          source: 'online',
          userId: null,
        });
        await tx
          .update(evaluationJobs)
          .set({ status: 'done', lastError: null, updatedAt: new Date() })
          .where(eq(evaluationJobs.id, job.id));
      });
      done++;
    } catch (e) {
      const retryable = isAppError(e) ? e.retryable : true;
      const giveUp = !retryable || job.attempts >= opts.maxAttempts;
      const message = (e instanceof Error ? e.message : String(e)).slice(0, 2_000);
      log?.warn({ jobId: job.id, err: message, giveUp }, 'online evaluation failed');
      await db.system((tx) =>
        tx.execute(sql`UPDATE evaluation_jobs SET last_error = ${message}, updated_at = now(),
          status = ${giveUp ? 'failed' : 'pending'},
          available_at = now() + ${`${1_000 * 2 ** job.attempts} milliseconds`}::interval
          WHERE id = ${job.id}`),
      );
      if (giveUp) failed++;
    }
  }
  return { done, failed };
}

/** One pass: enqueue what finished, then score what is due. */
export async function onlinePass(
  db: Database,
  ports: ScoringPorts,
  options: Partial<OnlineOptions> = {},
  log?: Logger,
  signal?: AbortSignal,
) {
  const opts = { ...DEFAULT_ONLINE_OPTIONS, ...options };
  const enqueued = await enqueueFinished(db, opts);
  return { enqueued, ...(await processJobs(db, ports, opts, log, signal)) };
}

/**
 * The worker process's online-evaluation loop: a pass every `intervalMs` (next one at once while a pass
 * found a full batch). Runs beside the step worker, never inside a run's transactions.
 */
export class EvaluationLoop {
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  readonly #abort = new AbortController();

  constructor(
    private readonly db: Database,
    private readonly ports: ScoringPorts,
    private readonly log: Logger,
    private readonly intervalMs = 5_000,
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
    let again = false;
    try {
      const r = await onlinePass(this.db, this.ports, {}, this.log, this.#abort.signal);
      again = r.done + r.failed >= DEFAULT_ONLINE_OPTIONS.batch;
    } catch (e) {
      this.log.error({ err: e }, 'online evaluation pass failed');
    }
    this.#schedule(again ? 0 : this.intervalMs);
  }

  async stop(): Promise<void> {
    this.#abort.abort();
    clearTimeout(this.#timer);
    await this.#running;
  }
}
