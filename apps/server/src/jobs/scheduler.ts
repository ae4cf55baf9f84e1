import { hostname } from 'node:os';
import { queryRows } from '@aiops/db';
import type { Cron } from 'croner';
import { sql } from 'drizzle-orm';
import { latestDue, parseCron } from './due.ts';
import type { JobContext, JobDeps, ScheduledJob } from './types.ts';

const DEFAULT_LEASE_MS = 5 * 60_000;
/** A failed run is retried after this delay, at most MAX_ATTEMPTS times in all. */
const RETRY_DELAY_MS = 60_000;
const MAX_ATTEMPTS = 3;
const RETRY_SCAN_MS = 10_000;
/** Finished claims are kept this long (what ran when, for an operator), then deleted, at most hourly. */
const KEEP_CLAIMS_MS = 7 * 86_400_000;
const PRUNE_EVERY_MS = 3_600_000;
const PRUNE_BATCH = 1000;

export interface SchedulerOptions {
  /** How often due times are checked (default 1 s). */
  tickMs?: number;
  /** Identifies this process in claims (default host:pid). */
  owner?: string;
}

interface Entry {
  job: ScheduledJob;
  cron: Cron;
  /** The latest due time this process knows was claimed (by anyone). */
  lastDue?: number;
}

/**
 * Runs the scheduled jobs of a worker process. Each due time is claimed by inserting the row
 * (job, due_at); the process whose insert wins runs the job, the others skip it. A run whose process died
 * is taken over after its lease; a failed run is retried after a minute, three attempts in all. After
 * downtime only the latest missed due time runs (a job covers everything up to its due time).
 */
export class JobScheduler {
  private readonly entries: Entry[];
  private readonly owner: string;
  private readonly abort = new AbortController();
  private readonly running = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private lastRetryScan = 0;
  private lastPrune = 0;
  private ticking: Promise<void> | undefined;

  constructor(
    private readonly deps: JobDeps,
    jobs: readonly ScheduledJob[],
    private readonly options: SchedulerOptions = {},
  ) {
    const names = new Set<string>();
    this.entries = jobs.map((job) => {
      if (names.has(job.name)) throw new TypeError(`scheduled job ${job.name} is listed twice`);
      names.add(job.name);
      return { job, cron: parseCron(job.cron, job.timezone) };
    });
    this.owner = (options.owner ?? `${hostname()}:${process.pid}`).slice(0, 200);
  }

  start(): void {
    if (this.timer || this.entries.length === 0) return;
    const tick = () => {
      this.ticking ??= this.tick(new Date())
        .then(() => undefined)
        .catch((e) => this.deps.log.error({ err: e }, 'scheduled jobs: tick failed'))
        .finally(() => {
          this.ticking = undefined;
        });
    };
    this.timer = setInterval(tick, this.options.tickMs ?? 1000);
    this.timer.unref();
    tick();
  }

  /** Stops claiming; aborts running jobs' signals and waits for them up to `timeoutMs`. */
  async stop(timeoutMs = 5000): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.abort.abort();
    await this.ticking;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.running]),
      new Promise((r) => {
        timer = setTimeout(r, timeoutMs);
      }),
    ]);
    clearTimeout(timer);
  }

  /**
   * Claims and starts every job due at `now` (and retries due); resolves when the jobs it started have
   * finished. Tests call it with a chosen time.
   */
  async tick(now: Date): Promise<string[]> {
    const started: Promise<void>[] = [];
    const names: string[] = [];
    for (const entry of this.entries) {
      const due = latestDue(entry.cron, now);
      if (!due || (entry.lastDue !== undefined && due.getTime() <= entry.lastDue)) continue;
      entry.lastDue = due.getTime();
      if (await this.claim(entry.job, due)) {
        names.push(entry.job.name);
        started.push(this.execute(entry.job, due));
      }
    }
    if (now.getTime() - this.lastRetryScan >= RETRY_SCAN_MS) {
      this.lastRetryScan = now.getTime();
      for (const { job, due } of await this.retryable()) {
        names.push(job.name);
        started.push(this.execute(job, due));
      }
    }
    await Promise.all(started);
    if (now.getTime() - this.lastPrune >= PRUNE_EVERY_MS) {
      this.lastPrune = now.getTime();
      const pruned = await this.prune(now);
      if (pruned) this.deps.log.info({ pruned }, 'scheduled jobs: old claims deleted');
    }
    return names;
  }

  /**
   * Deletes the claims of due times older than a week that are over (succeeded, or failed for good),
   * except each job's latest: a due time is only ever claimed again if it is the job's latest due time,
   * so the claims older than a later one can go (two jobs run every minute: 2,880 rows a day otherwise).
   * In batches, so an embedded database is not held by one long statement.
   */
  async prune(now: Date): Promise<number> {
    const cutoff = new Date(now.getTime() - KEEP_CLAIMS_MS).toISOString();
    let total = 0;
    for (;;) {
      const [row] = await this.deps.db.system((tx) =>
        queryRows<{ n: number }>(
          tx,
          sql`WITH d AS (DELETE FROM scheduled_job_runs WHERE (job, due_at) IN (
                SELECT r.job, r.due_at FROM scheduled_job_runs r
                WHERE r.due_at < ${cutoff}::timestamptz
                  AND (r.status = 'succeeded' OR (r.status = 'failed' AND r.attempts >= ${MAX_ATTEMPTS}))
                  AND EXISTS (SELECT 1 FROM scheduled_job_runs n WHERE n.job = r.job AND n.due_at > r.due_at)
                LIMIT ${PRUNE_BATCH}) RETURNING 1)
              SELECT count(*)::int AS n FROM d`,
        ),
      );
      total += row!.n;
      if (row!.n < PRUNE_BATCH || this.abort.signal.aborted) return total;
    }
  }

  private async claim(job: ScheduledJob, due: Date): Promise<boolean> {
    const lease = new Date(Date.now() + (job.leaseMs ?? DEFAULT_LEASE_MS));
    const rows = await this.deps.db.system((tx) =>
      queryRows<{ job: string }>(
        tx,
        sql`INSERT INTO scheduled_job_runs (job, due_at, status, owner, lease_until)
            VALUES (${job.name}, ${due.toISOString()}, 'running', ${this.owner}, ${lease.toISOString()})
            ON CONFLICT (job, due_at) DO NOTHING RETURNING job`,
      ),
    );
    return rows.length === 1;
  }

  /** Takes over abandoned runs (lease expired) and failed ones whose retry time has come. */
  private async retryable(): Promise<{ job: ScheduledJob; due: Date }[]> {
    const byName = new Map(this.entries.map((e) => [e.job.name, e.job]));
    const names = [...byName.keys()];
    if (names.length === 0) return [];
    const rows = await this.deps.db.system((tx) =>
      queryRows<{ job: string; due_at: string | Date }>(
        tx,
        sql`UPDATE scheduled_job_runs SET status = 'running', owner = ${this.owner},
              attempts = attempts + 1, started_at = now(), finished_at = NULL,
              lease_until = now() + make_interval(secs => ${DEFAULT_LEASE_MS / 1000})
            WHERE (job, due_at) IN (
              SELECT job, due_at FROM scheduled_job_runs
              WHERE status IN ('running', 'failed') AND lease_until < now() AND attempts < ${MAX_ATTEMPTS}
                AND job IN (${sql.join(
                  names.map((n) => sql`${n}`),
                  sql`, `,
                )})
              FOR UPDATE SKIP LOCKED)
            RETURNING job, due_at`,
      ),
    );
    return rows.flatMap((r) => {
      const job = byName.get(r.job);
      return job ? [{ job, due: new Date(r.due_at) }] : [];
    });
  }

  private execute(job: ScheduledJob, due: Date): Promise<void> {
    const ctx: JobContext = { ...this.deps, dueAt: due, signal: this.abort.signal };
    const started = Date.now();
    const p = (async () => {
      try {
        await job.run(ctx);
        await this.finish(job, due, 'succeeded', null);
        this.deps.log.info({ job: job.name, dueAt: due, ms: Date.now() - started }, 'scheduled job done');
      } catch (e) {
        const message = e instanceof Error ? e.message : String(e);
        this.deps.log.error({ job: job.name, dueAt: due, err: e }, 'scheduled job failed');
        await this.finish(job, due, 'failed', message.slice(0, 2000)).catch(() => {});
      }
    })();
    this.running.add(p);
    void p.finally(() => this.running.delete(p));
    return p;
  }

  private async finish(job: ScheduledJob, due: Date, status: string, error: string | null): Promise<void> {
    await this.deps.db.system((tx) =>
      queryRows(
        tx,
        sql`UPDATE scheduled_job_runs SET status = ${status}, error = ${error}, finished_at = now(),
              lease_until = now() + make_interval(secs => ${RETRY_DELAY_MS / 1000})
            WHERE job = ${job.name} AND due_at = ${due.toISOString()} AND owner = ${this.owner}`,
      ),
    );
  }
}

/** Runs one job's body now for a given due time, without claiming (tests and `aiops` commands). */
export async function runJobNow(job: ScheduledJob, deps: JobDeps, dueAt = new Date()): Promise<void> {
  await job.run({ ...deps, dueAt, signal: new AbortController().signal });
}
