import { queryRows, workflowTriggers } from '@aiops/db';
import { eq, sql } from 'drizzle-orm';
import { nextFireTime } from './cron.ts';
import {
  type FireContext,
  type FireResult,
  metaOf,
  recordFiring,
  runInputOf,
  settleFirings,
  startFiring,
  type TriggerRow,
} from './firing.ts';

/** A due time fired within this long after it is on time; older ones were missed (downtime). */
export const ON_TIME_MS = 60_000;

/** Schedules fired at once by one process. */
const PARALLEL = 16;

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

/**
 * Fires the schedules whose due time has come, exactly once per (trigger, due time) whatever the number of
 * processes: each trigger row is locked (SKIP LOCKED: another process has it) and its cursor re-read, the
 * firings are inserted (unique per due time) and the cursor advanced in one transaction; the runs start
 * after the commit with the firing's idempotency key (a crash in between is retried by `settleFirings`).
 */
export async function fireDueSchedules(ctx: FireContext, now = new Date()): Promise<FireResult[]> {
  const due = await ctx.db.system((tx) =>
    tx
      .select({ id: workflowTriggers.id, organizationId: workflowTriggers.organizationId })
      .from(workflowTriggers)
      .where(
        sql`${workflowTriggers.type} = 'schedule' AND ${workflowTriggers.enabled}
            AND ${workflowTriggers.nextFireAt} <= ${now}`,
      )
      .orderBy(workflowTriggers.nextFireAt)
      .limit(200),
  );
  const results: FireResult[] = [];
  const one = async (d: (typeof due)[number]) => {
    const toStart = await ctx.db.withTenant(d.organizationId, async (tx) => {
      const [t] = await queryRows<Record<string, unknown>>(
        tx,
        sql`SELECT id FROM workflow_triggers WHERE id = ${d.id} AND enabled AND next_fire_at <= ${now}
            FOR UPDATE SKIP LOCKED`,
      );
      if (!t) return [];
      const [row] = await tx.select().from(workflowTriggers).where(eq(workflowTriggers.id, d.id));
      if (!row) return [];
      const plan = dueTimes(row, now);
      const out: { result: FireResult; input: unknown; dueAt: Date }[] = [];
      for (const dueAt of plan.fire) {
        const payload = { scheduledAt: dueAt.toISOString(), timezone: row.timezone, triggerId: row.id };
        const req = {
          trigger: row,
          payload,
          defaultInput: payload,
          triggeredBy: 'schedule' as const,
          externalTriggerId: dueAt.toISOString(),
          dueAt,
        };
        const input = runInputOf(row, payload, payload);
        out.push({ result: await recordFiring(tx, req, input), input, dueAt });
      }
      await tx
        .update(workflowTriggers)
        .set({
          nextFireAt: plan.next,
          ...(plan.fire.length ? { lastFiredAt: plan.fire.at(-1)! } : {}),
          updatedAt: new Date(),
        })
        .where(eq(workflowTriggers.id, d.id));
      if (plan.missed > 0) {
        ctx.log.warn(
          { triggerId: d.id, missed: plan.missed },
          'schedule missed due times (missed-fire policy)',
        );
      }
      return out.map((o) => ({ ...o, trigger: row }));
    });
    for (const s of toStart) {
      if (s.result.duplicate || s.result.status !== 'starting') {
        results.push(s.result);
        continue;
      }
      const meta = metaOf({
        trigger: s.trigger,
        payload: null,
        defaultInput: null,
        triggeredBy: 'schedule',
        externalTriggerId: s.dueAt.toISOString(),
        dueAt: s.dueAt,
      });
      results.push(await startFiring(ctx, s.trigger, s.result.firingId, s.input, meta));
    }
  };
  // Triggers are independent: up to PARALLEL at a time, so many schedules due at once are not fired in series.
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(PARALLEL, due.length) }, async () => {
      while (next < due.length) await one(due[next++]!);
    }),
  );
  return results;
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
 * apart), settles firings (queued ones start when their trigger has room, crashed starts are retried), and
 * runs the extra passes it is given. Errors are logged and the loop goes on.
 */
export class TriggerLoop {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;

  constructor(
    private readonly ctx: FireContext,
    private readonly options: TriggerLoopOptions = {},
  ) {}

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  private schedule(ms: number) {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.pass().then((sleep) => this.schedule(sleep));
    }, ms);
    this.timer.unref?.();
  }

  private async pass(): Promise<number> {
    const max = this.options.maxSleepMs ?? 1000;
    try {
      await fireDueSchedules(this.ctx);
      await settleFirings(this.ctx);
      for (const extra of this.options.also ?? []) await extra();
      const next = await earliestDue(this.ctx);
      if (!next) return max;
      return Math.max(5, Math.min(max, next.getTime() - Date.now() + 2));
    } catch (e) {
      if (!this.stopped) this.ctx.log.error({ err: e }, 'trigger loop pass failed');
      return max;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }
}
