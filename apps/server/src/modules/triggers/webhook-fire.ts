import { randomUUID } from 'node:crypto';
import { Batcher } from './batch.ts';
import {
  type FireContext,
  type FireRequest,
  type FireResult,
  fire,
  metaOf,
  recordFiring,
  runInputOf,
  startFiring,
} from './firing.ts';
import { type InsertedFiring, insertFirings, markFiringsStarted, type NewFiring } from './firing-rows.ts';

/**
 * Fires webhook triggers with the least database work per request: the firings of concurrent requests are
 * inserted by one call (`aiops_insert_firings`, which also applies "only active workflows fire"), their
 * runs are created by the engine's batched run creator, and the firings are marked started by one call.
 * Triggers with a concurrency limit take the general path (`fire`), which locks the trigger to count its
 * active runs.
 *
 * The answer waits for the run's creation, whose commit is synchronous: it makes the firing durable too
 * (inserted before it, committed without waiting for the flush). Marking the firing started is not
 * waited for: until then the firing shows `starting`, and if the process dies first the trigger loop
 * starts it again with the same idempotency key, which finds the run already created.
 */
export class WebhookFirer {
  private readonly inserts = new Batcher<NewFiring, InsertedFiring | null>((items) =>
    insertFirings(this.ctx.db.db, items, true),
  );
  private readonly starts = new Batcher<{ firingId: string; runId: string }, null>(async (items) => {
    await markFiringsStarted(this.ctx.db.db, items);
    return items.map(() => null);
  });
  private readonly marking = new Set<Promise<unknown>>();

  constructor(private readonly ctx: FireContext) {}

  async fire(req: FireRequest): Promise<FireResult> {
    const t = req.trigger;
    if (t.maxConcurrentExecutions !== null) return fire(this.ctx, req);
    const input = runInputOf(t, req.payload, req.defaultInput);
    const meta = metaOf(req);
    const id = randomUUID();
    const inserted = await this.inserts.add({
      id,
      organizationId: t.organizationId,
      triggerId: t.id,
      workflowId: t.workflowId,
      deliveryId: req.deliveryId ?? null,
      dueAt: null,
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
    return startFiring(this.ctx, t, id, input, meta, async (firingId, runId) => {
      const marked = this.starts.add({ firingId, runId }).catch((err: unknown) => {
        this.ctx.log.warn(
          { err, firingId },
          'marking a webhook firing started failed; the trigger loop will',
        );
      });
      this.marking.add(marked);
      void marked.finally(() => this.marking.delete(marked));
    });
  }

  /** Waits for the firings being marked started (before the database closes). */
  async drain(): Promise<void> {
    while (this.marking.size) await Promise.all([...this.marking]);
  }
}
