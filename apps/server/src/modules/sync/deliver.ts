import { createHash } from 'node:crypto';
import { queryRows, syncDeliveries } from '@aiops/db';
import { signedPost } from '@aiops/providers';
import { sql } from 'drizzle-orm';
import { envelope, type OutboxDeps, sinkWants } from '../events/outbox.ts';
import { nextFireTime } from '../triggers/cron.ts';

export interface SyncOptions {
  /** First retry after about this long (equal jitter: half fixed, half random); doubles per failure. */
  backoffMs: number;
  /** Retries wait at most this long (a failing target keeps being retried, it is never given up). */
  maxBackoffMs: number;
  /** How long one batch POST may take. */
  timeoutMs: number;
  /** Targets claimed per pass. */
  targets: number;
  random: () => number;
}

export const DEFAULT_SYNC_OPTIONS: SyncOptions = {
  backoffMs: 5_000,
  maxBackoffMs: 3_600_000,
  timeoutMs: 15_000,
  targets: 10,
  random: Math.random,
};

/** Associated data of a target's encrypted API key and signing secret. */
export const syncKeyAad = (id: string) => `sync_target_key:${id}`;
export const syncSecretAad = (id: string) => `sync_target:${id}`;

interface ClaimedTarget {
  id: string;
  organization_id: string;
  url: string;
  api_key_encrypted: string | null;
  secret_encrypted: string;
  event_types: string[];
  interval_seconds: number | null;
  cron: string | null;
  timezone: string;
  batch_size: number;
  cursor_txid: string;
  cursor_seq: string | number;
  generation: number;
  consecutive_failures: number;
  allow_private: boolean | null;
}

interface OutboxRow {
  id: string;
  seq: string | number;
  type: string;
  payload: Record<string, unknown>;
  created_at: Date | string;
  txid: string;
}

/** When a target that is up to date syncs next: its interval after now, or its cron's next time. */
export function nextScheduled(
  t: { intervalSeconds: number | null; cron: string | null; timezone: string },
  from: Date,
): Date {
  if (t.cron) return nextFireTime(t.cron, t.timezone, from) ?? new Date(from.getTime() + 86_400_000);
  return new Date(from.getTime() + (t.intervalSeconds ?? 60) * 1000);
}

/** Exponential backoff with equal jitter for the n-th consecutive failure (n ≥ 1). */
export function backoff(o: SyncOptions, n: number): number {
  const base = Math.min(o.backoffMs * 2 ** Math.min(n - 1, 30), o.maxBackoffMs);
  return Math.round(base / 2 + (o.random() * base) / 2);
}

/** The body of a batch: what the receiver gets (each event as event sinks send it). */
export function batchBody(organizationId: string, batchId: string, events: OutboxRow[]) {
  return {
    type: 'sync.batch',
    id: batchId,
    organizationId,
    events: events.map((r) =>
      envelope({
        outbox_id: r.id,
        organization_id: organizationId,
        type: r.type,
        payload: r.payload,
        created_at: r.created_at,
        seq: String(r.seq),
      }),
    ),
  };
}

/** The outbox loop's sync pass with these options (`OutboxDeps.sync`). */
export const syncPass =
  (options: Partial<SyncOptions> = {}) =>
  (deps: OutboxDeps) =>
    syncDue(deps, options);

/**
 * Syncs the due targets: claims them with a lease (SKIP LOCKED; processes share the work, a dead process's
 * lease runs out), reads each one's next batch from `event_outbox` after its cursor, POSTs it signed, and
 * records the attempt. The cursor moves only on a 2xx answer (and only if no resync happened meanwhile);
 * a failure is retried with exponential backoff and jitter. True when a target has more to send at once.
 */
export async function syncDue(deps: OutboxDeps, options: Partial<SyncOptions> = {}): Promise<boolean> {
  const o = { ...DEFAULT_SYNC_OPTIONS, ...options };
  const claimed = await deps.db.system((tx) =>
    queryRows<ClaimedTarget>(
      tx,
      sql`WITH c AS (
            SELECT id FROM sync_targets
            WHERE enabled AND next_sync_at <= now() AND (lease_until IS NULL OR lease_until < now())
            ORDER BY next_sync_at LIMIT ${o.targets} FOR UPDATE SKIP LOCKED)
          UPDATE sync_targets t SET lease_until = now() + make_interval(secs => ${(o.timeoutMs + 30_000) / 1000})
          FROM c, organizations g
          WHERE t.id = c.id AND g.id = t.organization_id
          RETURNING t.id, t.organization_id, t.url, t.api_key_encrypted, t.secret_encrypted, t.event_types,
            t.interval_seconds, t.cron, t.timezone, t.batch_size, t.cursor_txid::text AS cursor_txid,
            t.cursor_seq, t.generation, t.consecutive_failures,
            (g.settings->>'allowPrivateNetworks')::boolean AS allow_private`,
    ),
  );
  const more = await Promise.all(claimed.map((t) => syncOne(deps, o, t)));
  return more.some(Boolean);
}

/**
 * The transaction id below which every transaction of this database has ended, as of the statement's
 * snapshot: the oldest transaction still running (`pg_snapshot_xip`), else the snapshot's xmax. A
 * transaction that `pg_stat_activity` shows in another database is left out: it cannot write this
 * database's outbox, and on a shared server it would hold delivery back for as long as it runs (another
 * application's long transaction, a report, a migration). Anything not shown as another database's
 * (ended meanwhile, a prepared transaction, a session we may not see) is kept, so the bound can only be
 * too low, never too high. Transaction ids are matched on their low 32 bits, unique among running ones.
 */
const DELIVERABLE_BELOW = sql`coalesce(
     (SELECT min(x) FROM pg_snapshot_xip(pg_current_snapshot()) AS x
      WHERE NOT EXISTS (
        SELECT 1 FROM pg_stat_activity a
        WHERE a.backend_xid IS NOT NULL AND a.datname IS NOT NULL AND a.datname <> current_database()
          AND a.backend_xid::text::bigint = (x::text::numeric % 4294967296)::bigint)),
     pg_snapshot_xmax(pg_current_snapshot()))`;

/**
 * The target's next events: after its cursor in (transaction id, sequence) order, from transactions of
 * this database that ended before any still running began (`DELIVERABLE_BELOW`). A sequence number alone
 * could skip an event whose transaction took its number first but committed last; a transaction id below
 * that bound can no longer commit anything new.
 */
function readBatch(deps: OutboxDeps, t: ClaimedTarget) {
  return deps.db.system((tx) =>
    queryRows<OutboxRow>(
      tx,
      sql`SELECT id, seq, type, payload, created_at, txid::text AS txid FROM event_outbox
          WHERE organization_id = ${t.organization_id}::uuid
            AND (txid, seq) > (${t.cursor_txid}::xid8, ${t.cursor_seq}::bigint)
            AND txid < ${DELIVERABLE_BELOW}
          ORDER BY txid, seq LIMIT ${t.batch_size}`,
    ),
  );
}

async function syncOne(deps: OutboxDeps, o: SyncOptions, t: ClaimedTarget): Promise<boolean> {
  let rows: OutboxRow[];
  try {
    rows = await readBatch(deps, t);
  } catch (e) {
    await finish(deps, o, t, { ok: false, error: (e as Error).message.slice(0, 1000), rows: [] });
    return false;
  }
  const wanted = rows.filter((r) => sinkWants(t.event_types, r.type));
  const more = rows.length >= t.batch_size;
  if (!wanted.length) {
    // Nothing to send (none new, or none of the synced types): the cursor moves past what was read.
    await finish(deps, o, t, { ok: true, rows, more });
    return more;
  }
  const batchId = `sync_${createHash('sha256')
    .update(`${t.id}:${t.generation}:${wanted.map((r) => r.id).join(',')}`)
    .digest('hex')
    .slice(0, 32)}`;
  const body = JSON.stringify(batchBody(t.organization_id, batchId, wanted));
  const started = Date.now();
  let result: { code: number | null; error: string | null };
  try {
    const secret = deps.secrets.decrypt(t.secret_encrypted, syncSecretAad(t.id));
    const apiKey = t.api_key_encrypted ? deps.secrets.decrypt(t.api_key_encrypted, syncKeyAad(t.id)) : null;
    result = await signedPost({
      url: t.url,
      id: batchId,
      body,
      secrets: [secret],
      headers: apiKey ? { authorization: `Bearer ${apiKey}` } : {},
      allowPrivate: t.allow_private === true,
      privateNetworkCategories: deps.privateNetworkCategories,
      timeoutMs: o.timeoutMs,
    });
  } catch (e) {
    result = { code: null, error: (e as Error).message.slice(0, 1000) };
  }
  const attempt = {
    batchId,
    eventCount: wanted.length,
    firstSeq: Number(wanted[0]!.seq),
    lastSeq: Number(wanted.at(-1)!.seq),
    responseCode: result.code,
    durationMs: Date.now() - started,
  };
  if (result.error) {
    await finish(deps, o, t, { ok: false, error: result.error, rows, attempt });
    deps.log.warn({ syncTargetId: t.id, error: result.error }, 'sync batch failed');
    return false;
  }
  await finish(deps, o, t, { ok: true, rows, more, attempt });
  return more;
}

interface Outcome {
  ok: boolean;
  rows: OutboxRow[];
  more?: boolean;
  error?: string;
  attempt?: {
    batchId: string;
    eventCount: number;
    firstSeq: number;
    lastSeq: number;
    responseCode: number | null;
    durationMs: number;
  };
}

/** Records an attempt and moves the target on: the cursor on success, the next try on failure. */
async function finish(deps: OutboxDeps, o: SyncOptions, t: ClaimedTarget, out: Outcome): Promise<void> {
  const last = out.rows.at(-1);
  const failures = out.ok ? 0 : t.consecutive_failures + 1;
  const next = out.ok
    ? out.more
      ? new Date()
      : nextScheduled({ intervalSeconds: t.interval_seconds, cron: t.cron, timezone: t.timezone }, new Date())
    : new Date(Date.now() + backoff(o, failures));
  await deps.db.system(async (tx) => {
    // A resync meanwhile (generation changed) wins: the cursor stays where it put it and the target is due now.
    const kept = await queryRows<{ id: string }>(
      tx,
      sql`
      UPDATE sync_targets SET
        cursor_txid = CASE WHEN generation = ${t.generation} AND ${out.ok && !!last}
          THEN ${last?.txid ?? '0'}::xid8 ELSE cursor_txid END,
        cursor_seq = CASE WHEN generation = ${t.generation} AND ${out.ok && !!last}
          THEN ${last ? Number(last.seq) : 0}::bigint ELSE cursor_seq END,
        status = ${out.ok ? 'success' : 'failed'},
        last_sync_at = CASE WHEN ${out.ok} THEN now() ELSE last_sync_at END,
        last_error = ${out.ok ? null : (out.error ?? 'failed')},
        consecutive_failures = ${failures},
        next_sync_at = CASE WHEN generation = ${t.generation} THEN ${next}::timestamptz ELSE now() END,
        lease_until = NULL
      WHERE id = ${t.id} RETURNING id`,
    );
    // A target deleted while its batch was in flight: nothing to record.
    if (out.attempt && kept.length) {
      await tx.insert(syncDeliveries).values({
        organizationId: t.organization_id,
        targetId: t.id,
        kind: 'batch',
        ...out.attempt,
        attempt: t.consecutive_failures + 1,
        ok: out.ok,
        error: out.error ?? null,
      });
    }
  });
}
