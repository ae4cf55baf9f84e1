import type { SecretBox } from '@aiops/core';
import { type Database, eventDeliveries, eventSinks, queryRows, type Tx } from '@aiops/db';
import type { Logger } from '@aiops/engine';
import type { AddressCategory } from '@aiops/providers';
import { signedPost } from '@aiops/providers';
import { eq, sql } from 'drizzle-orm';
import { type NatsPublisher, subjectOf } from './nats.ts';

export interface OutboxOptions {
  /** First retry after this long; each next one waits twice as long (capped at an hour). */
  backoffMs: number;
  /** A delivery gives up (status failed) after this many attempts. */
  maxAttempts: number;
  /** A sink whose deliveries gave up this many times in a row is disabled. */
  disableAfter: number;
  /** How long one HTTP delivery may take. */
  timeoutMs: number;
}

export const DEFAULT_OUTBOX_OPTIONS: OutboxOptions = {
  backoffMs: 5_000,
  maxAttempts: 8,
  disableAfter: 5,
  timeoutMs: 10_000,
};

export interface OutboxDeps {
  db: Database;
  secrets: SecretBox;
  nats: NatsPublisher;
  log: Logger;
  privateNetworkCategories?: readonly AddressCategory[] | undefined;
  options?: Partial<OutboxOptions>;
  /** Sees each batch of outbox rows in the transaction that dispatches them (once across processes). */
  observe?: OutboxObserver;
  /** Outbound sync's pass (`modules/sync`), run by the same loop after deliveries; true when more is due at once. */
  sync?: (deps: OutboxDeps) => Promise<boolean>;
}

/** An outbox row as dispatched; `workflow_id` is set for `workflow_finished`, `agent_id` for `agent_task_*`. */
export interface DispatchedRow {
  id: string;
  organization_id: string;
  type: string;
  workflow_id: string | null;
  agent_id: string | null;
}
export type OutboxObserver = (tx: Tx, rows: DispatchedRow[]) => Promise<void>;

export const sinkAad = (id: string) => `event_sink:${id}`;

/** Whether a sink takes an event type: listed exactly, by a prefix ending in `*` (`run.*`, `agent_task_*`), or (empty list) everything but step events. */
export function sinkWants(types: string[], type: string): boolean {
  if (!types.length) return !type.startsWith('step.');
  return types.some((t) => t === type || (t.endsWith('*') && type.startsWith(t.slice(0, -1))));
}

/**
 * Marks a batch of committed outbox rows dispatched, lets `observe` see them (alert rules on finished runs
 * and agent steps), then fans them out to their organization's enabled sinks (one delivery row per sink and
 * event), in one transaction (SKIP LOCKED: processes share the work). Rows committed before a crash are
 * still undispatched and are picked up by the next pass of any process. The batch is taken by the update
 * that marks it: before, a `SELECT … FOR UPDATE` locked each row and an update by a list of 500 ids marked
 * it (a pass of 500 events 22.8 → 21.3 ms median on PGlite, 14.2 → 13.9 on PostgreSQL).
 */
export async function dispatchOutbox(db: Database, limit = 500, observe?: OutboxObserver): Promise<number> {
  return db.system(async (tx) => {
    const marked = await queryRows<DispatchedRow & { seq: string }>(
      tx,
      sql`UPDATE event_outbox o SET dispatched_at = now()
          FROM (SELECT id FROM event_outbox WHERE dispatched_at IS NULL
                ORDER BY seq LIMIT ${limit} FOR UPDATE SKIP LOCKED) b
          WHERE o.id = b.id
          RETURNING o.id, o.organization_id, o.type, o.seq::text AS seq,
            CASE WHEN o.type = 'workflow_finished' THEN o.payload->>'workflowId' END AS workflow_id,
            CASE WHEN o.type IN ('agent_task_completed', 'agent_task_failed') THEN o.payload->>'agentId' END AS agent_id`,
    );
    if (!marked.length) return 0;
    // In the events' order (RETURNING has none).
    const rows: DispatchedRow[] = marked
      .sort((a, b) => (BigInt(a.seq) < BigInt(b.seq) ? -1 : 1))
      .map(({ seq: _seq, ...r }) => r);
    if (observe) await observe(tx, rows);
    const orgs = [...new Set(rows.map((r) => r.organization_id))];
    const sinks = await queryRows<{ id: string; organization_id: string; event_types: string[] }>(
      tx,
      sql`SELECT id, organization_id, event_types FROM event_sinks
          WHERE enabled AND organization_id IN (${sql.join(
            orgs.map((o) => sql`${o}::uuid`),
            sql`, `,
          )})`,
    );
    const deliveries = rows.flatMap((r) =>
      sinks
        .filter((s) => s.organization_id === r.organization_id && sinkWants(s.event_types, r.type))
        .map((s) => ({ organizationId: r.organization_id, sinkId: s.id, outboxId: r.id, eventType: r.type })),
    );
    if (deliveries.length) await tx.insert(eventDeliveries).values(deliveries).onConflictDoNothing();
    return rows.length;
  });
}

interface Claimed {
  id: string;
  organization_id: string;
  sink_id: string;
  outbox_id: string;
  attempts: number;
  kind: string;
  url: string | null;
  secret_encrypted: string | null;
  /** The replaced secret while its grace period lasts (null after). */
  previous_secret: string | null;
  subject_prefix: string | null;
  seq: string;
  type: string;
  payload: Record<string, unknown>;
  created_at: Date | string;
  allow_private: boolean | null;
}

/** The body every sink receives: the event's id (the outbox id, stable across retries), type, time, data. */
export function envelope(
  c: Pick<Claimed, 'outbox_id' | 'organization_id' | 'type' | 'payload' | 'created_at' | 'seq'>,
) {
  return {
    id: c.outbox_id,
    type: c.type,
    organizationId: c.organization_id,
    sequence: Number(c.seq),
    timestamp: new Date(c.created_at).toISOString(),
    data: c.payload,
  };
}

/**
 * Delivers due deliveries: claims them with a lease (SKIP LOCKED; a process that dies mid-delivery loses
 * its lease and another retries), sends each (NATS JetStream publish with the outbox id as de-duplication
 * id, or a Standard Webhooks-signed POST through the outbound address policy), and records the outcome:
 * delivered; or retried with exponential backoff; or, after `maxAttempts`, failed, counting towards the
 * sink's automatic disabling.
 */
export async function deliverDue(deps: OutboxDeps, limit = 50): Promise<number> {
  const o = { ...DEFAULT_OUTBOX_OPTIONS, ...deps.options };
  const claimed = await deps.db.system((tx) =>
    queryRows<Claimed>(
      tx,
      sql`WITH c AS (
            SELECT d.id FROM event_deliveries d JOIN event_sinks s ON s.id = d.sink_id AND s.enabled
            WHERE d.status = 'pending' AND d.next_attempt_at <= now()
              AND (d.lease_until IS NULL OR d.lease_until < now())
            ORDER BY d.next_attempt_at LIMIT ${limit} FOR UPDATE OF d SKIP LOCKED)
          UPDATE event_deliveries d SET lease_until = now() + make_interval(secs => ${(o.timeoutMs + 30_000) / 1000}),
            attempts = d.attempts + 1, updated_at = now()
          FROM c, event_sinks s, event_outbox x, organizations g
          WHERE d.id = c.id AND s.id = d.sink_id AND x.id = d.outbox_id AND g.id = d.organization_id
          RETURNING d.id, d.organization_id, d.sink_id, d.outbox_id, d.attempts, s.kind, s.url,
            s.secret_encrypted,
            CASE WHEN s.previous_secret_expires_at > now() THEN s.previous_secret_encrypted END AS previous_secret,
            s.subject_prefix, x.seq, x.type, x.payload, x.created_at,
            (g.settings->>'allowPrivateNetworks')::boolean AS allow_private`,
    ),
  );
  await Promise.all(claimed.map((c) => deliverOne(deps, o, c)));
  return claimed.length;
}

async function deliverOne(deps: OutboxDeps, o: OutboxOptions, c: Claimed): Promise<void> {
  const started = Date.now();
  const body = JSON.stringify(envelope(c));
  let code: number | null = null;
  let error: string | null = null;
  if (c.kind === 'nats') {
    try {
      const prefix = c.subject_prefix ?? 'aiops';
      await deps.nats.publish(
        prefix,
        subjectOf(prefix, c.organization_id, c.type),
        Buffer.from(body),
        c.outbox_id,
      );
    } catch (e) {
      const cause = (e as { cause?: { message?: string } }).cause?.message;
      error = `${(e as Error).message}${cause ? `: ${cause}` : ''}`.slice(0, 1000);
    }
  } else {
    let keys: string[];
    try {
      const secret = deps.secrets.decrypt(c.secret_encrypted!, sinkAad(c.sink_id));
      const previous = c.previous_secret ? deps.secrets.decrypt(c.previous_secret, sinkAad(c.sink_id)) : null;
      // During a rotation's grace period, signatures with both secrets (space-separated, Standard Webhooks).
      keys = [secret, ...(previous ? [previous] : [])];
    } catch (e) {
      keys = [];
      error = (e as Error).message.slice(0, 1000);
    }
    if (keys.length) {
      ({ code, error } = await signedPost({
        url: c.url!,
        id: c.outbox_id,
        body,
        secrets: keys,
        allowPrivate: c.allow_private === true,
        privateNetworkCategories: deps.privateNetworkCategories,
        timeoutMs: o.timeoutMs,
      }));
    }
  }
  const durationMs = Date.now() - started;
  await deps.db.system(async (tx) => {
    if (!error) {
      await tx
        .update(eventDeliveries)
        .set({
          status: 'delivered',
          responseCode: code,
          lastError: null,
          durationMs,
          deliveredAt: new Date(),
          leaseUntil: null,
          updatedAt: new Date(),
        })
        .where(eq(eventDeliveries.id, c.id));
      await tx.update(eventSinks).set({ consecutiveFailures: 0 }).where(eq(eventSinks.id, c.sink_id));
      return;
    }
    const giveUp = c.attempts >= o.maxAttempts;
    const wait = Math.min(o.backoffMs * 2 ** (c.attempts - 1), 3_600_000);
    await tx
      .update(eventDeliveries)
      .set({
        status: giveUp ? 'failed' : 'pending',
        responseCode: code,
        lastError: error,
        durationMs,
        nextAttemptAt: new Date(Date.now() + wait),
        leaseUntil: null,
        updatedAt: new Date(),
      })
      .where(eq(eventDeliveries.id, c.id));
    if (giveUp) {
      await tx.execute(sql`
        UPDATE event_sinks SET consecutive_failures = consecutive_failures + 1,
          enabled = CASE WHEN consecutive_failures + 1 >= ${o.disableAfter} THEN false ELSE enabled END,
          disabled_reason = CASE WHEN consecutive_failures + 1 >= ${o.disableAfter}
            THEN ${`disabled after ${o.disableAfter} deliveries in a row failed (last: ${error})`} ELSE disabled_reason END,
          updated_at = now()
        WHERE id = ${c.sink_id}`);
    }
  });
  if (error)
    deps.log.warn(
      { deliveryId: c.id, sinkId: c.sink_id, attempt: c.attempts, error },
      'event delivery failed',
    );
}

/**
 * The worker's outbound-event loop: dispatch and deliver (the daily `events.prune` job deletes old rows). Separate from the trigger loop so
 * a slow sink delays neither schedules nor runs (deliveries run outside any run's transaction).
 */
export class OutboxLoop {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;

  constructor(
    private readonly deps: OutboxDeps,
    private readonly intervalMs = 250,
  ) {}

  start(): void {
    this.stopped = false;
    this.next(0);
  }

  private next(ms: number) {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.pass().then((busy) => this.next(busy ? 0 : this.intervalMs));
    }, ms);
    this.timer.unref?.();
  }

  /** One pass; true when there may be more to do at once. */
  async pass(): Promise<boolean> {
    try {
      const dispatched = await dispatchOutbox(this.deps.db, 500, this.deps.observe);
      const delivered = await deliverDue(this.deps);
      const moreSync = this.deps.sync ? await this.deps.sync(this.deps) : false;
      return dispatched >= 500 || delivered >= 50 || moreSync;
    } catch (e) {
      if (!this.stopped) this.deps.log.error({ err: e }, 'outbox pass failed');
      return false;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
    await this.deps.nats.close();
  }
}
