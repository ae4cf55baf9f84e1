import { randomUUID } from 'node:crypto';
import type { EventDto } from '@aiops/contracts';
import { compileCondition } from '@aiops/core';
import { events, type Tx, triggerFirings, workflowTriggers } from '@aiops/db';
import { and, desc, eq, inArray, isNull, or, type SQL } from 'drizzle-orm';
import type { FastifyRequest } from 'fastify';
import { authOf } from '../../http/auth.ts';
import { after, cursorTime, page } from '../../http/pagination.ts';
import { audit, tenant } from '../../http/tenant.ts';
import type { ModuleDeps } from '../../module.ts';
import {
  type FireResult,
  metaOf,
  recordFiring,
  runInputOf,
  startFiring,
  type TriggerRow,
} from '../triggers/firing.ts';

type EventRow = typeof events.$inferSelect;

function eventDto(e: EventRow, firings: (typeof triggerFirings.$inferSelect)[]): EventDto {
  return {
    id: e.id,
    externalId: e.externalId,
    type: e.type,
    source: e.source,
    data: e.data,
    receivedAt: e.receivedAt.toISOString(),
    triggersMatched: e.triggersMatched,
    runs: firings
      .filter((f) => f.eventId === e.id)
      .map((f) => ({ triggerId: f.triggerId, runId: f.runId, status: f.status })),
  };
}

/** What a trigger's filter sees: `type`, `source`, `id`, `data`, `time`. */
function matches(t: TriggerRow, e: EventRow): { ok: boolean; error?: string } {
  if (t.eventSource && t.eventSource !== e.source) return { ok: false };
  if (!t.eventFilter) return { ok: true };
  try {
    const ok = compileCondition(t.eventFilter)({
      type: e.type,
      source: e.source,
      id: e.externalId,
      data: e.data,
      time: e.receivedAt.toISOString(),
    });
    return { ok };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
}

async function firingsOf(tx: Tx, ids: string[]) {
  if (!ids.length) return [];
  return tx.select().from(triggerFirings).where(inArray(triggerFirings.eventId, ids));
}

/**
 * `POST /events`: stores the event (once per id: a repeat answers the stored one) and, in the same
 * transaction, records a firing for every enabled event trigger of the organization whose type, source and
 * CEL filter match; the runs start after the commit (a crash in between is retried by the trigger loop).
 */
export async function postEvent(
  request: FastifyRequest,
  deps: ModuleDeps,
  body: { id?: string | undefined; type: string; source: string; data?: unknown },
) {
  const auth = authOf(request);
  const outcome = await tenant(request, async (tx) => {
    const externalId = body.id ?? randomUUID();
    const [inserted] = await tx
      .insert(events)
      .values({
        organizationId: auth.organizationId,
        externalId,
        type: body.type,
        source: body.source,
        data: body.data ?? {},
      })
      .onConflictDoNothing()
      .returning();
    if (!inserted) {
      const [old] = await tx
        .select()
        .from(events)
        .where(and(eq(events.organizationId, auth.organizationId), eq(events.externalId, externalId)));
      return {
        event: old!,
        duplicate: true,
        fired: [] as { t: TriggerRow; r: FireResult; input: unknown }[],
      };
    }
    const candidates = await tx
      .select()
      .from(workflowTriggers)
      .where(
        and(
          eq(workflowTriggers.type, 'event'),
          eq(workflowTriggers.enabled, true),
          eq(workflowTriggers.eventType, body.type),
          or(isNull(workflowTriggers.eventSource), eq(workflowTriggers.eventSource, body.source)),
        ),
      )
      .limit(500);
    const fired: { t: TriggerRow; r: FireResult; input: unknown }[] = [];
    const payload = {
      id: inserted.externalId,
      type: inserted.type,
      source: inserted.source,
      data: inserted.data,
      time: inserted.receivedAt.toISOString(),
    };
    for (const t of candidates) {
      const m = matches(t, inserted);
      if (m.error) request.log.warn({ triggerId: t.id, error: m.error }, 'event filter failed; not fired');
      if (!m.ok) continue;
      const input = runInputOf(t, payload, payload);
      const r = await recordFiring(
        tx,
        {
          trigger: t,
          payload,
          defaultInput: payload,
          triggeredBy: 'event',
          eventId: inserted.id,
          externalTriggerId: inserted.externalId,
        },
        input,
      );
      fired.push({ t, r, input });
    }
    const [event] = await tx
      .update(events)
      .set({ triggersMatched: fired.length })
      .where(eq(events.id, inserted.id))
      .returning();
    await audit(tx, request, {
      entityType: 'event',
      entityId: inserted.id,
      action: 'received',
      after: { type: body.type, source: body.source, externalId, triggersMatched: fired.length },
    });
    return { event: event!, duplicate: false, fired };
  });
  const ctx = { db: deps.db, runs: deps.engine.runs, log: request.log };
  for (const f of outcome.fired) {
    if (f.r.status !== 'starting') continue;
    await startFiring(
      ctx,
      f.t,
      f.r.firingId,
      f.input,
      metaOf({
        trigger: f.t,
        payload: null,
        defaultInput: null,
        triggeredBy: 'event',
        eventId: outcome.event.id,
        externalTriggerId: outcome.event.externalId,
      }),
    );
  }
  const firings = await tenant(request, (tx) => firingsOf(tx, [outcome.event.id]));
  return { ...eventDto(outcome.event, firings), duplicate: outcome.duplicate };
}

export function listEvents(
  request: FastifyRequest,
  q: { limit: number; cursor?: string | undefined; type?: string | undefined },
) {
  return tenant(request, async (tx) => {
    const conditions: (SQL | undefined)[] = [after(events.receivedAt, events.id, q.cursor)];
    if (q.type) conditions.push(eq(events.type, q.type));
    const rows = await tx
      .select({ row: events, id: events.id, cursorT: cursorTime(events.receivedAt) })
      .from(events)
      .where(and(...conditions))
      .orderBy(desc(events.receivedAt), desc(events.id))
      .limit(q.limit + 1);
    const p = page(rows, q.limit);
    const firings = await firingsOf(
      tx,
      p.data.map((r) => r.row.id),
    );
    return { data: p.data.map((r) => eventDto(r.row, firings)), nextCursor: p.nextCursor };
  });
}
