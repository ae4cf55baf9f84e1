import { isAppError, renderValue } from '@aiops/core';
import {
  type Database,
  type FiringStatus,
  queryRows,
  type Tx,
  triggerFirings,
  workflows,
  workflowTriggers,
} from '@aiops/db';
import type { Logger, Runs } from '@aiops/engine';
import { and, eq, inArray, isNotNull, isNull, sql } from 'drizzle-orm';
import { assertFeature } from '../config/gate.ts';
import { runtimeConfigOf } from '../config/runtime.ts';

export type TriggerRow = typeof workflowTriggers.$inferSelect;

export interface FireContext {
  db: Database;
  runs: Runs;
  log: Logger;
}

export interface FireRequest {
  trigger: TriggerRow;
  /** What the input mapping sees as `input` (webhook body/headers/query, the event, the schedule time). */
  payload: unknown;
  /** The run input when the trigger has no mapping. */
  defaultInput: unknown;
  triggeredBy: 'schedule' | 'webhook' | 'event';
  externalTriggerId?: string | null;
  dueAt?: Date;
  eventId?: string;
  deliveryId?: string;
}

export interface FireResult {
  firingId: string;
  status: FiringStatus;
  runId: string | null;
  reason: string | null;
  /** The firing existed already (same due time, event or delivery id): nothing new happened. */
  duplicate: boolean;
}

const ACTIVE_RUN = sql`('queued', 'pending', 'running', 'paused')`;

/** Runs of this trigger that count against its limit: firings starting, or started with the run still active. */
export async function activeFirings(tx: Tx, triggerId: string): Promise<number> {
  const rows = await queryRows<{ n: number }>(
    tx,
    sql`
    SELECT count(*)::int AS n FROM trigger_firings f
    LEFT JOIN workflow_executions e ON e.id = f.run_id
    WHERE f.trigger_id = ${triggerId} AND f.status IN ('starting', 'started')
      AND (f.status = 'starting' OR e.status IN ${ACTIVE_RUN})`,
  );
  return Number(rows[0]?.n ?? 0);
}

export function runInputOf(trigger: TriggerRow, payload: unknown, defaultInput: unknown): unknown {
  if (trigger.inputMapping === null || trigger.inputMapping === undefined) return defaultInput;
  return renderValue(trigger.inputMapping, { input: payload });
}

/**
 * Records one firing in `tx` (unique per due time / delivery id, so a repeat is a duplicate), applying the
 * rule that only active workflows fire and the trigger's concurrency limit (queue or skip). A firing in
 * state `starting` is then started by `startFiring`.
 */
export async function recordFiring(tx: Tx, req: FireRequest, input: unknown): Promise<FireResult> {
  const t = req.trigger;
  const limited = t.maxConcurrentExecutions !== null;
  if (limited) {
    // Serializes the count-then-insert of this trigger's firings.
    await tx.execute(sql`SELECT 1 FROM workflow_triggers WHERE id = ${t.id} FOR UPDATE`);
  }
  const [wf] = await tx
    .select({ status: workflows.status })
    .from(workflows)
    .where(and(eq(workflows.id, t.workflowId), isNull(workflows.deletedAt)));
  let status: FiringStatus = 'starting';
  let reason: string | null = null;
  if (wf?.status !== 'active') {
    status = 'skipped';
    reason = `the workflow is ${wf ? wf.status : 'deleted'}; only active workflows fire from triggers`;
  } else if (limited && (await activeFirings(tx, t.id)) >= (t.maxConcurrentExecutions ?? 0)) {
    status = t.overflow === 'queue' ? 'queued' : 'skipped';
    reason = `${t.maxConcurrentExecutions} run(s) of this trigger already active`;
  }
  const inserted = await tx
    .insert(triggerFirings)
    .values({
      organizationId: t.organizationId,
      triggerId: t.id,
      workflowId: t.workflowId,
      status,
      reason,
      dueAt: req.dueAt ?? null,
      eventId: req.eventId ?? null,
      deliveryId: req.deliveryId ?? null,
      payload: status === 'starting' || status === 'queued' ? { input, meta: metaOf(req) } : null,
    })
    .onConflictDoNothing()
    .returning({ id: triggerFirings.id });
  if (inserted[0]) return { firingId: inserted[0].id, status, reason, runId: null, duplicate: false };
  const [old] = await tx
    .select()
    .from(triggerFirings)
    .where(
      and(
        eq(triggerFirings.triggerId, t.id),
        req.dueAt ? eq(triggerFirings.dueAt, req.dueAt) : eq(triggerFirings.deliveryId, req.deliveryId ?? ''),
      ),
    );
  return {
    firingId: old?.id ?? '',
    status: old?.status ?? 'skipped',
    reason: old?.reason ?? null,
    runId: old?.runId ?? null,
    duplicate: true,
  };
}

/**
 * Fires a trigger once: records the firing, then starts the run with an idempotency key of the firing, so
 * a retry after a crash cannot start a second run.
 */
export async function fire(ctx: FireContext, req: FireRequest): Promise<FireResult> {
  const input = runInputOf(req.trigger, req.payload, req.defaultInput);
  const decided = await ctx.db.withTenant(req.trigger.organizationId, (tx) => recordFiring(tx, req, input));
  if (decided.duplicate || decided.status !== 'starting') return decided;
  return startFiring(ctx, req.trigger, decided.firingId, input, metaOf(req));
}

export interface FiringMeta {
  triggeredBy: 'schedule' | 'webhook' | 'event';
  externalTriggerId: string | null;
  eventId: string | null;
  deliveryId: string | null;
  dueAt: string | null;
}

export function metaOf(req: FireRequest): FiringMeta {
  return {
    triggeredBy: req.triggeredBy,
    externalTriggerId: req.externalTriggerId ?? null,
    eventId: req.eventId ?? null,
    deliveryId: req.deliveryId ?? null,
    dueAt: req.dueAt ? req.dueAt.toISOString() : null,
  };
}

/** Starts the run of a firing in state `starting` and records the outcome. Safe to repeat (idempotency key). */
export async function startFiring(
  ctx: FireContext,
  t: TriggerRow,
  firingId: string,
  input: unknown,
  meta: FiringMeta,
  /** Records the started run (default: its own update; the webhook path batches them). */
  markStarted?: (firingId: string, runId: string) => Promise<void>,
): Promise<FireResult> {
  try {
    // A schedule, webhook or event of an organization whose workflows are turned off starts nothing.
    assertFeature(runtimeConfigOf(ctx.db), 'feature/workflows', t.organizationId);
    const started = await ctx.runs.start({
      organizationId: t.organizationId,
      workflowId: t.workflowId,
      input,
      triggeredBy: meta.triggeredBy,
      externalTriggerId: meta.externalTriggerId?.slice(0, 255) ?? null,
      idempotencyKey: `trigger-firing:${firingId}`,
      metadata: {
        trigger: {
          id: t.id,
          type: t.type,
          firingId,
          ...(meta.eventId ? { eventId: meta.eventId } : {}),
          ...(meta.deliveryId ? { deliveryId: meta.deliveryId } : {}),
          ...(meta.dueAt ? { dueAt: meta.dueAt } : {}),
        },
      },
    });
    if (markStarted) await markStarted(firingId, started.id);
    else {
      await ctx.db.withTenant(t.organizationId, (tx) =>
        tx
          .update(triggerFirings)
          .set({ status: 'started', runId: started.id, payload: null, updatedAt: new Date() })
          .where(eq(triggerFirings.id, firingId)),
      );
    }
    return { firingId, status: 'started', runId: started.id, reason: null, duplicate: false };
  } catch (e) {
    // A workflow-level limit or invalid input: the firing failed, and says why. Anything else (database
    // down) leaves it `starting`, which the trigger loop retries with the same idempotency key.
    if (!isAppError(e) || e.status >= 500) throw e;
    const reason = `${e.code}: ${e.message}`.slice(0, 2000);
    await ctx.db.withTenant(t.organizationId, (tx) =>
      tx
        .update(triggerFirings)
        .set({ status: 'failed', reason, payload: null, updatedAt: new Date() })
        .where(eq(triggerFirings.id, firingId)),
    );
    ctx.log.warn({ triggerId: t.id, firingId, code: e.code }, 'trigger fired but the run did not start');
    return { firingId, status: 'failed', runId: null, reason, duplicate: false };
  }
}

/**
 * Housekeeping of firings across organizations (the trigger loop, every second): firings whose run ended
 * become `done`; queued firings start while their trigger has room; firings left `starting` by a process
 * that died are started again (same idempotency key: at most one run).
 */
export async function settleFirings(ctx: FireContext, now = new Date()): Promise<number> {
  let started = 0;
  const work = await ctx.db.system(async (tx) => {
    await tx.execute(sql`
      UPDATE trigger_firings f SET status = 'done', updated_at = now()
      FROM workflow_executions e
      WHERE f.status = 'started' AND e.id = f.run_id AND e.status NOT IN ${ACTIVE_RUN}`);
    const queued = await queryRows<{ trigger_id: string }>(
      tx,
      sql`SELECT DISTINCT trigger_id FROM trigger_firings WHERE status = 'queued' LIMIT 100`,
    );
    const stale = await tx
      .select()
      .from(triggerFirings)
      .where(
        and(
          eq(triggerFirings.status, 'starting'),
          isNotNull(triggerFirings.triggerId),
          sql`${triggerFirings.updatedAt} < ${new Date(now.getTime() - 30_000)}`,
        ),
      )
      .limit(100);
    const triggerIds = [...new Set([...queued.map((r) => r.trigger_id), ...stale.map((s) => s.triggerId!)])];
    const triggers = triggerIds.length
      ? await tx.select().from(workflowTriggers).where(inArray(workflowTriggers.id, triggerIds))
      : [];
    return { queued: queued.map((r) => r.trigger_id), stale, triggers };
  });
  const byId = new Map(work.triggers.map((t) => [t.id, t]));
  for (const f of work.stale) {
    const t = byId.get(f.triggerId!);
    const p = f.payload as { input: unknown; meta: FiringMeta } | null;
    if (!t || !p) continue;
    await startFiring(ctx, t, f.id, p.input, p.meta);
    started++;
  }
  for (const id of work.queued) {
    const t = byId.get(id);
    if (!t) continue;
    const promoted = await ctx.db.withTenant(t.organizationId, async (tx) => {
      await tx.execute(sql`SELECT 1 FROM workflow_triggers WHERE id = ${t.id} FOR UPDATE`);
      const room =
        t.maxConcurrentExecutions === null
          ? 100
          : t.maxConcurrentExecutions - (await activeFirings(tx, t.id));
      if (room <= 0) return [];
      const next = await queryRows<{ id: string }>(
        tx,
        sql`
        SELECT id FROM trigger_firings WHERE trigger_id = ${t.id} AND status = 'queued'
        ORDER BY created_at, id LIMIT ${room}`,
      );
      const ids = next.map((r) => r.id);
      if (!ids.length) return [];
      return tx
        .update(triggerFirings)
        .set({ status: 'starting', updatedAt: new Date() })
        .where(inArray(triggerFirings.id, ids))
        .returning();
    });
    for (const f of promoted) {
      const p = f.payload as { input: unknown; meta: FiringMeta };
      await startFiring(ctx, t, f.id, p.input, p.meta);
      started++;
    }
  }
  return started;
}
