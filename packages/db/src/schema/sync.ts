import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  check,
  customType,
  index,
  integer,
  pgTable,
  text,
  uuid,
  varchar,
} from 'drizzle-orm/pg-core';
import { createdAt, id, jsonb, oneOf, tenantPolicy, tstz, updatedAt } from './columns.ts';
import { organizations } from './organizations.ts';
import { users } from './users.ts';

/** PostgreSQL's 64-bit transaction id (`xid8`), as its decimal text. */
export const xid8 = customType<{ data: string; driverData: string }>({ dataType: () => 'xid8' });

export const SYNC_STATUSES = ['pending', 'success', 'failed'] as const;
export type SyncStatus = (typeof SYNC_STATUSES)[number];

/**
 * Outbound sync (seed 001 `omni_bridge_sync`): an organization's events pushed incrementally from
 * `event_outbox` to an external system in signed batches. The cursor is the (transaction id, sequence)
 * of the last event delivered: events are read in that order and only from transactions older than every
 * running one, so an event committed late is never skipped.
 */
export const syncTargets = pgTable(
  'sync_targets',
  {
    id: id(),
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    name: varchar('name', { length: 255 }).notNull(),
    url: text('url').notNull(),
    /** The receiver's API key, sent as a bearer token; SecretBox-encrypted (`sync_target_key:<id>`). */
    apiKeyEncrypted: text('api_key_encrypted'),
    apiKeyKeyId: varchar('api_key_key_id', { length: 32 }),
    apiKeyHint: varchar('api_key_hint', { length: 32 }),
    /** Standard Webhooks signing secret (`sync_target:<id>`). */
    secretEncrypted: text('secret_encrypted').notNull(),
    secretKeyId: varchar('secret_key_id', { length: 32 }).notNull(),
    secretHint: varchar('secret_hint', { length: 32 }).notNull(),
    enabled: boolean('enabled').notNull().default(true),
    /** Event types synced (`run.*` style prefixes allowed); empty: all but step events. */
    eventTypes: jsonb('event_types').$type<string[]>().notNull().default([]),
    /** Either an interval or a cron expression in a time zone. */
    intervalSeconds: integer('interval_seconds'),
    cron: varchar('cron', { length: 100 }),
    timezone: varchar('timezone', { length: 64 }).notNull().default('UTC'),
    batchSize: integer('batch_size').notNull().default(100),
    status: varchar('status', { length: 10 }).$type<SyncStatus>().notNull().default('pending'),
    lastSyncAt: tstz('last_sync_at'),
    lastError: text('last_error'),
    consecutiveFailures: integer('consecutive_failures').notNull().default(0),
    cursorTxid: xid8('cursor_txid').notNull().default(sql`'0'::xid8`),
    cursorSeq: bigint('cursor_seq', { mode: 'number' }).notNull().default(0),
    /** Incremented by a full resync: a batch in flight from before it does not move the cursor. */
    generation: integer('generation').notNull().default(0),
    nextSyncAt: tstz('next_sync_at').notNull().defaultNow(),
    leaseUntil: tstz('lease_until'),
    createdBy: uuid('created_by').references(() => users.id, { onDelete: 'set null' }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    index('idx_sync_targets_due').on(t.nextSyncAt).where(sql`${t.enabled}`),
    index('idx_sync_targets_org').on(t.organizationId),
    check('sync_targets_status_check', oneOf(t.status, SYNC_STATUSES)),
    check(
      'sync_targets_schedule_check',
      sql`(${t.intervalSeconds} IS NULL) <> (${t.cron} IS NULL) AND coalesce(${t.intervalSeconds}, 1) > 0`,
    ),
    check('sync_targets_batch_check', sql`${t.batchSize} between 1 and 1000`),
    tenantPolicy(t.organizationId),
  ],
);

export const SYNC_DELIVERY_KINDS = ['batch', 'test'] as const;

/** One attempt to send a batch (or a test) to a sync target. */
export const syncDeliveries = pgTable(
  'sync_deliveries',
  {
    id: id(),
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    targetId: uuid('target_id')
      .notNull()
      .references(() => syncTargets.id, { onDelete: 'cascade' }),
    kind: varchar('kind', { length: 10 }).notNull().default('batch'),
    /** The `webhook-id`: the same for every attempt at the same batch. */
    batchId: varchar('batch_id', { length: 100 }).notNull(),
    eventCount: integer('event_count').notNull(),
    firstSeq: bigint('first_seq', { mode: 'number' }),
    lastSeq: bigint('last_seq', { mode: 'number' }),
    /** The target's consecutive attempt number (1 after a success). */
    attempt: integer('attempt').notNull(),
    ok: boolean('ok').notNull(),
    responseCode: integer('response_code'),
    error: text('error'),
    durationMs: integer('duration_ms').notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    index('idx_sync_deliveries_target').on(t.targetId, t.createdAt.desc()),
    index('idx_sync_deliveries_created').on(t.createdAt),
    check('sync_deliveries_kind_check', oneOf(t.kind, SYNC_DELIVERY_KINDS)),
    tenantPolicy(t.organizationId),
  ],
);
