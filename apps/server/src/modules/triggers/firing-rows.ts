import { type Executor, type FiringStatus, queryRows } from '@aiops/db';
import { sql } from 'drizzle-orm';

/** A firing to insert in a batch (`aiops_insert_firings`, migration 0040). */
export interface NewFiring {
  id: string;
  organizationId: string;
  triggerId: string;
  workflowId: string;
  deliveryId: string | null;
  dueAt: Date | null;
  payload: unknown;
}

export interface InsertedFiring {
  status: FiringStatus;
  reason: string | null;
}

/**
 * Inserts firings in one statement, `starting` when their workflow is active (else `skipped`, with the
 * reason). Each item gets its outcome, or null when a firing with its delivery id or due time exists
 * already. `async`: committed without waiting for the WAL flush (see the migration for when that is safe).
 */
export async function insertFirings(
  runner: Executor,
  items: NewFiring[],
  async: boolean,
): Promise<(InsertedFiring | null)[]> {
  const rows = items.map((f, ord) => ({
    id: f.id,
    organization_id: f.organizationId,
    trigger_id: f.triggerId,
    workflow_id: f.workflowId,
    delivery_id: f.deliveryId,
    due_at: f.dueAt?.toISOString() ?? null,
    payload: f.payload,
    ord,
  }));
  const [row] = await queryRows<{ r: { id: string; status: FiringStatus; reason: string | null }[] }>(
    runner,
    sql`SELECT aiops_insert_firings(${JSON.stringify(rows)}::jsonb, ${async}) AS r`,
  );
  const byId = new Map((row?.r ?? []).map((r) => [r.id, r]));
  return items.map((f) => {
    const r = byId.get(f.id);
    return r ? { status: r.status, reason: r.reason } : null;
  });
}

/**
 * Marks firings whose runs were created as started (or done, when the run has ended already), in one
 * statement committed without waiting for the flush.
 */
export async function markFiringsStarted(
  runner: Executor,
  items: { firingId: string; runId: string }[],
): Promise<void> {
  if (!items.length) return;
  const rows = items.map((s) => ({ id: s.firingId, run_id: s.runId }));
  await queryRows(runner, sql`SELECT aiops_mark_firings_started(${JSON.stringify(rows)}::jsonb) AS n`);
}
