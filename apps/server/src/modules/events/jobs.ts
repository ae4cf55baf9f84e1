import { queryRows } from '@aiops/db';
import { sql } from 'drizzle-orm';
import type { ScheduledJob } from '../../jobs/types.ts';

/** Delivered outbox rows (and their deliveries) are kept this long. */
export const OUTBOX_RETENTION_DAYS = 7;
/** Finished trigger firings are kept this long. */
export const FIRING_RETENTION_DAYS = 30;

/** Deletes in batches of 5,000 until none is left older than the cutoff (or the job is stopped). */
async function deleteInBatches(run: () => Promise<number>, signal: AbortSignal): Promise<number> {
  let total = 0;
  for (;;) {
    const n = await run();
    total += n;
    if (n < 5000 || signal.aborted) return total;
  }
}

/**
 * Daily: deletes dispatched outbox rows older than 7 days (their deliveries go with them), finished
 * trigger firings older than 30 days and sync attempts (`sync_deliveries`) older than 7 days. Idempotent: a second run finds nothing older than the cutoffs.
 */
export const pruneEventsJob: ScheduledJob = {
  name: 'events.prune',
  cron: '17 3 * * *',
  async run({ db, dueAt, signal, log }) {
    const outboxCutoff = new Date(dueAt.getTime() - OUTBOX_RETENTION_DAYS * 86_400_000);
    const firingCutoff = new Date(dueAt.getTime() - FIRING_RETENTION_DAYS * 86_400_000);
    const count = (q: ReturnType<typeof sql>) => () =>
      db.system(async (tx) => (await queryRows<{ id: string }>(tx, q)).length);
    const outbox = await deleteInBatches(
      count(sql`DELETE FROM event_outbox WHERE id IN (SELECT id FROM event_outbox
        WHERE dispatched_at < ${outboxCutoff} LIMIT 5000) RETURNING id`),
      signal,
    );
    const firings = await deleteInBatches(
      count(sql`DELETE FROM trigger_firings WHERE id IN (SELECT id FROM trigger_firings
        WHERE status IN ('done', 'skipped', 'failed') AND updated_at < ${firingCutoff} LIMIT 5000) RETURNING id`),
      signal,
    );
    const syncAttempts = await deleteInBatches(
      count(sql`DELETE FROM sync_deliveries WHERE id IN (SELECT id FROM sync_deliveries
        WHERE created_at < ${outboxCutoff} LIMIT 5000) RETURNING id`),
      signal,
    );
    log.info({ outbox, firings, syncAttempts }, 'pruned outbound events, trigger firings and sync attempts');
  },
};
