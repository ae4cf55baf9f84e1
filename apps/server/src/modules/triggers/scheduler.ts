import { randomUUID } from 'node:crypto';
import { queryRows, type Tx, triggerFirings, workflowTriggers } from '@aiops/db';
import { and, eq, type SQL, sql } from 'drizzle-orm';
import { nextFireTime } from './cron.ts';
import {
  type FireContext,
  type FireResult,
  type FiringMeta,
  metaOf,
  recordFiring,
  runInputOf,
  settleFirings,
  startFiring,
  type TriggerRow,
} from './firing.ts';
import { insertFirings, markFiringsStarted } from './firing-rows.ts';

/** A due time fired within this long after it is on time; older ones were missed (downtime). */
export const ON_TIME_MS = 60_000;

/** What a schedule's due times are computed from: a trigger's columns, or an agent's schedule. */
export interface ScheduleSpec {
  cron: string;
  timezone: string;
  /** The cursor: the next due time not yet fired. */
  nextFireAt: Date | null;
  missedFirePolicy: 'skip' | 'catchUp';
  catchUpLimit: number;
}

/**
 * The due times of a schedule from its cursor up to `now`, and what the missed-fire policy makes of them:
 * on-time due times always fire; missed ones fire under `catchUp` (the latest `catchUpLimit`), not under
 * `skip`. Returns the due times to fire and the next cursor (first due time after now).
 */
export function dueTimesOf(
  spec: ScheduleSpec,
  now: Date,
): { fire: Date[]; missed: number; next: Date | null } {
  const { cron, timezone: tz } = spec;
  const due: Date[] = [];
  let at = spec.nextFireAt;
  // Bounded walk: at most 10,000 due times are looked at (a per-second cron down for almost three hours).
  while (at && at.getTime() <= now.getTime() && due.length < 10_000) {
    due.push(at);
    at = nextFireTime(cron, tz, at);
  }
  const next = at && at.getTime() > now.getTime() ? at : nextFireTime(cron, tz, now);
  const onTime = due.filter((d) => now.getTime() - d.getTime() <= ON_TIME_MS);
  const missed = due.filter((d) => now.getTime() - d.getTime() > ON_TIME_MS);
  const caught = spec.missedFirePolicy === 'catchUp' ? missed.slice(-spec.catchUpLimit) : [];
  return { fire: [...caught, ...onTime], missed: missed.length - caught.length, next };
}

export function dueTimes(t: TriggerRow, now: Date): { fire: Date[]; missed: number; next: Date | null } {
  return dueTimesOf(
    {
      cron: t.scheduleCron!,
      timezone: t.timezone ?? 'UTC',
      nextFireAt: t.nextFireAt,
      missedFirePolicy: t.missedFirePolicy === 'catchUp' ? 'catchUp' : 'skip',
      catchUpLimit: t.catchUpLimit,
    },
    now,
  );
}

/** Schedules locked and fired by one transaction of a pass (a pass takes more batches while they come full). */
const BATCH = 500;

interface Planned {
  trigger: TriggerRow;
  dueAt: Date;
  firingId: string;
  input: unknown;
  meta: FiringMeta;
  result: FireResult;
}

/**
 * Fires the schedules whose due time has come, exactly once per (trigger, due time) whatever the number of
 * processes: the due trigger rows are locked (SKIP LOCKED: another process has them) and read in one
 * statement, their firings inserted (unique per due time) by one statement and their cursors advanced by
 * one statement, in one transaction; the runs start after the commit with each firing's idempotency key
 * (a crash in between is retried by `settleFirings`), and the firings are marked started by one statement.
 * Triggers with a concurrency limit record their firings one by one in that transaction (they count their
 * active runs).
 */
export async function fireDueSchedules(ctx: FireContext, now = new Date()): Promise<FireResult[]> {
  const results: FireResult[] = [];
  for (let pass = 0; pass < 10; pass++) {
    const { planned, locked } = await ctx.db.system((tx) => lockAndRecord(ctx, tx, now));
    const started: { firingId: string; runId: string }[] = [];
    await Promise.all(
      planned.map(async (p) => {
        if (p.result.duplicate || p.result.status !== 'starting') {
          results.push(p.result);
          return;
        }
        results.push(
          await startFiring(ctx, p.trigger, p.firingId, p.input, p.meta, async (firingId, runId) => {
            started.push({ firingId, runId });
          }),
        );
      }),
    );
    await markFiringsStarted(ctx.db.db, started);
    if (locked < BATCH) break;
  }
  return results;
}

async function lockAndRecord(
  ctx: FireContext,
  tx: Tx,
  now: Date,
): Promise<{ planned: Planned[]; locked: number }> {
  const rows = await tx
    .select()
    .from(workflowTriggers)
    .where(
      sql`${workflowTriggers.type} = 'schedule' AND ${workflowTriggers.enabled}
          AND ${workflowTriggers.nextFireAt} <= ${now}`,
    )
    .orderBy(workflowTriggers.nextFireAt)
    .limit(BATCH)
    .for('update', { skipLocked: true });
  if (!rows.length) return { planned: [], locked: 0 };
  const planned: Planned[] = [];
  const batch: Planned[] = [];
  const cursors: SQL[] = [];
  for (const row of rows) {
    const plan = dueTimes(row, now);
    for (const dueAt of plan.fire) {
      const payload = { scheduledAt: dueAt.toISOString(), timezone: row.timezone, triggerId: row.id };
      const input = runInputOf(row, payload, payload);
      const req = {
        trigger: row,
        payload,
        defaultInput: payload,
        triggeredBy: 'schedule' as const,
        externalTriggerId: dueAt.toISOString(),
        dueAt,
      };
      if (row.maxConcurrentExecutions !== null) {
        // Locked already; recordFiring counts its active runs.
        const result = await recordFiring(tx, req, input);
        planned.push({ trigger: row, dueAt, firingId: result.firingId, input, meta: metaOf(req), result });
      } else {
        const firingId = randomUUID();
        const result: FireResult = {
          firingId,
          status: 'starting',
          runId: null,
          reason: null,
          duplicate: false,
        };
        batch.push({ trigger: row, dueAt, firingId, input, meta: metaOf(req), result });
      }
    }
    const last = plan.fire.at(-1)?.toISOString() ?? null;
    cursors.push(
      sql`(${row.id}::uuid, ${plan.next?.toISOString() ?? null}::timestamptz, ${last}::timestamptz)`,
    );
    if (plan.missed > 0) {
      ctx.log.warn(
        { triggerId: row.id, missed: plan.missed },
        'schedule missed due times (missed-fire policy)',
      );
    }
  }
  if (batch.length) {
    const outcomes = await insertFirings(
      tx,
      batch.map((p) => ({
        id: p.firingId,
        organizationId: p.trigger.organizationId,
        triggerId: p.trigger.id,
        workflowId: p.trigger.workflowId,
        deliveryId: null,
        dueAt: p.dueAt,
        payload: { input: p.input, meta: p.meta },
      })),
      false,
    );
    for (const [i, p] of batch.entries()) {
      const o = outcomes[i];
      if (o) p.result = { ...p.result, status: o.status, reason: o.reason };
      else p.result = await existingFiring(tx, p.trigger.id, p.dueAt);
      planned.push(p);
    }
  }
  await tx.execute(sql`
    UPDATE workflow_triggers t
    SET next_fire_at = v.next, last_fired_at = coalesce(v.last, t.last_fired_at), updated_at = now()
    FROM (VALUES ${sql.join(cursors, sql`, `)}) AS v(id, next, last)
    WHERE t.id = v.id`);
  return { planned, locked: rows.length };
}

/** The firing of this due time that existed already (its cursor had been moved back). */
async function existingFiring(tx: Tx, triggerId: string, dueAt: Date): Promise<FireResult> {
  const [old] = await tx
    .select()
    .from(triggerFirings)
    .where(and(eq(triggerFirings.triggerId, triggerId), eq(triggerFirings.dueAt, dueAt)));
  return {
    firingId: old?.id ?? '',
    status: old?.status ?? 'skipped',
    reason: old?.reason ?? null,
    runId: old?.runId ?? null,
    duplicate: true,
  };
}

/** The earliest due time of any enabled schedule (to sleep until it). */
async function earliestDue(ctx: FireContext): Promise<Date | null> {
  const [row] = await ctx.db.system((tx) =>
    queryRows<{ at: Date | string | null }>(
      tx,
      sql`SELECT min(next_fire_at) AS at FROM workflow_triggers WHERE trigger_type = 'schedule' AND enabled`,
    ),
  );
  return row?.at ? new Date(row.at) : null;
}

export interface TriggerLoopOptions {
  /** Longest sleep between passes (housekeeping of firings runs at least this often). */
  maxSleepMs?: number;
  /** Extra work each pass (the outbox dispatcher). */
  also?: (() => Promise<void>)[];
}

/**
 * The worker's trigger loop: fires due schedules (waking at the earliest due time, at most `maxSleepMs`
 * apart) and, on a chain of its own so that it never delays a due time, settles firings (queued ones start
 * when their trigger has room, crashed starts are retried) and runs the extra passes it is given, every
 * `maxSleepMs`. Errors are logged and the loop goes on.
 */
export class TriggerLoop {
  private readonly chains = [new Chain(), new Chain()] as const;

  constructor(
    private readonly ctx: FireContext,
    private readonly options: TriggerLoopOptions = {},
  ) {}

  start(): void {
    const [firing, housekeeping] = this.chains;
    firing.start(() => this.fire());
    housekeeping.start(() => this.housekeep());
  }

  private get max(): number {
    return this.options.maxSleepMs ?? 1000;
  }

  private async fire(): Promise<number> {
    try {
      await fireDueSchedules(this.ctx);
      const next = await earliestDue(this.ctx);
      if (!next) return this.max;
      return Math.max(5, Math.min(this.max, next.getTime() - Date.now() + 2));
    } catch (e) {
      if (!this.chains[0].stopped) this.ctx.log.error({ err: e }, 'trigger loop pass failed');
      return this.max;
    }
  }

  private async housekeep(): Promise<number> {
    const started = Date.now();
    try {
      await settleFirings(this.ctx);
      for (const extra of this.options.also ?? []) await extra();
    } catch (e) {
      if (!this.chains[1].stopped) this.ctx.log.error({ err: e }, 'trigger loop housekeeping failed');
    }
    return Math.max(5, this.max - (Date.now() - started));
  }

  async stop(): Promise<void> {
    await Promise.all(this.chains.map((c) => c.stop()));
  }
}

/** A pass repeated after the sleep it returns, until stopped. */
class Chain {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  stopped = true;

  start(pass: () => Promise<number>): void {
    this.stopped = false;
    this.schedule(pass, 0);
  }

  private schedule(pass: () => Promise<number>, ms: number) {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = pass().then((sleep) => this.schedule(pass, sleep));
    }, ms);
    this.timer.unref?.();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }
}
