import { randomUUID } from 'node:crypto';
import { type FiringStatus, queryRows } from '@aiops/db';
import { sql } from 'drizzle-orm';
import { Batcher } from './batch.ts';
import {
  type FireContext,
  type FireRequest,
  type FireResult,
  type FiringMeta,
  fire,
  metaOf,
  recordFiring,
  runInputOf,
  startFiring,
  type TriggerRow,
} from './firing.ts';

interface PendingFiring {
  id: string;
  trigger: TriggerRow;
  deliveryId: string | null;
  payload: { input: unknown; meta: FiringMeta };
}

/**
 * Fires webhook triggers with the least database work per request: the firings of concurrent requests are
 * inserted by one statement (which also applies "only active workflows fire"), their runs are created by
 * the engine's batched run creator, and the firings are marked started by one statement. Triggers with a
 * concurrency limit take the general path (`fire`), which locks the trigger to count its active runs.
 */
export class WebhookFirer {
  private readonly inserts = new Batcher<
    PendingFiring,
    { status: FiringStatus; reason: string | null } | null
  >((items) => this.insertMany(items));
  private readonly starts = new Batcher<{ firingId: string; runId: string }, null>((items) =>
    this.markStarted(items),
  );

  constructor(private readonly ctx: FireContext) {}

  async fire(req: FireRequest): Promise<FireResult> {
    const t = req.trigger;
    if (t.maxConcurrentExecutions !== null) return fire(this.ctx, req);
    const input = runInputOf(t, req.payload, req.defaultInput);
    const meta = metaOf(req);
    const id = randomUUID();
    const inserted = await this.inserts.add({
      id,
      trigger: t,
      deliveryId: req.deliveryId ?? null,
      payload: { input, meta },
    });
    // Not inserted: this delivery id was seen before; the general path reports the existing firing.
    if (!inserted) return this.ctx.db.withTenant(t.organizationId, (tx) => recordFiring(tx, req, input));
    if (inserted.status !== 'starting') {
      return {
        firingId: id,
        status: inserted.status,
        reason: inserted.reason,
        runId: null,
        duplicate: false,
      };
    }
    return startFiring(this.ctx, t, id, input, meta, (firingId, runId) =>
      this.starts.add({ firingId, runId }).then(() => undefined),
    );
  }

  private async insertMany(items: PendingFiring[]) {
    const rows = sql.join(
      items.map(
        (p, i) =>
          sql`(${p.id}::uuid, ${p.trigger.organizationId}::uuid, ${p.trigger.id}::uuid, ${p.trigger.workflowId}::uuid,
               ${p.deliveryId}::varchar, ${JSON.stringify(p.payload)}::jsonb, ${i}::int)`,
      ),
      sql`, `,
    );
    const out = await this.ctx.db.system((tx) =>
      queryRows<{ id: string; status: FiringStatus; reason: string | null }>(
        tx,
        sql`WITH v(id, organization_id, trigger_id, workflow_id, delivery_id, payload, ord) AS (VALUES ${rows})
            INSERT INTO trigger_firings (id, organization_id, trigger_id, workflow_id, status, reason, delivery_id, payload)
            SELECT v.id, v.organization_id, v.trigger_id, v.workflow_id,
              CASE WHEN w.status = 'active' THEN 'starting' ELSE 'skipped' END,
              CASE WHEN w.status = 'active' THEN NULL
                ELSE 'the workflow is ' || coalesce(w.status, 'deleted') || '; only active workflows fire from triggers' END,
              v.delivery_id,
              CASE WHEN w.status = 'active' THEN v.payload END
            FROM v LEFT JOIN workflows w
              ON w.id = v.workflow_id AND w.organization_id = v.organization_id AND w.deleted_at IS NULL
            ORDER BY v.ord
            ON CONFLICT DO NOTHING
            RETURNING id, status, reason`,
      ),
    );
    const byId = new Map(out.map((r) => [r.id, r]));
    return items.map((p) => {
      const r = byId.get(p.id);
      return r ? { status: r.status, reason: r.reason } : null;
    });
  }

  private async markStarted(items: { firingId: string; runId: string }[]) {
    const rows = sql.join(
      items.map((s) => sql`(${s.firingId}::uuid, ${s.runId}::uuid)`),
      sql`, `,
    );
    await this.ctx.db.system((tx) =>
      tx.execute(sql`
        UPDATE trigger_firings f SET status = 'started', run_id = v.run_id, payload = NULL, updated_at = now()
        FROM (VALUES ${rows}) AS v(id, run_id) WHERE f.id = v.id`),
    );
    return items.map(() => null);
  }
}
