import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  boolean,
  check,
  index,
  integer,
  pgTable,
  text,
  uniqueIndex,
  uuid,
  varchar,
} from 'drizzle-orm/pg-core';
import { agents } from './agents.ts';
import { createdAt, id, jsonb, oneOf, tenantPolicy, tstz, updatedAt } from './columns.ts';
import { organizations } from './organizations.ts';
import { xid8 } from './sync.ts';
import { users } from './users.ts';
import { workflows } from './workflows.ts';

export const TRIGGER_TYPES = ['schedule', 'webhook', 'event'] as const;
export type TriggerType = (typeof TRIGGER_TYPES)[number];
export const TRIGGER_OVERFLOW = ['queue', 'skip'] as const;
export const MISSED_FIRE_POLICIES = ['skip', 'catchUp'] as const;
export const WEBHOOK_AUTH = ['standard', 'bearer', 'none'] as const;
export const WEBHOOK_MODES = ['async', 'sync'] as const;

/**
 * What starts a workflow's runs by itself (seed 000 workflow_triggers): a cron schedule in a time zone, a
 * webhook with its own unguessable URL and secret, or an event type/source with a CEL filter. Only runs of
 * `active` workflows start from triggers. Seed 000's UNIQUE(workflow_id, trigger_type) is dropped: a
 * workflow may have several schedules.
 */
export const workflowTriggers = pgTable(
  'workflow_triggers',
  {
    id: id(),
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    workflowId: uuid('workflow_id')
      .notNull()
      .references(() => workflows.id, { onDelete: 'cascade' }),
    name: varchar('name', { length: 255 }).notNull(),
    type: varchar('trigger_type', { length: 20 }).$type<TriggerType>().notNull(),
    enabled: boolean('enabled').notNull().default(true),
    /** Runs of this trigger active at once; null: no limit of its own. */
    maxConcurrentExecutions: integer('max_concurrent_executions').default(1),
    /** Over the limit: `queue` (fires when a run ends) or `skip` (recorded as skipped). */
    overflow: varchar('overflow', { length: 10 }).notNull().default('queue'),
    /** Template of the run input over the payload (`{{body.x}}`, `{{event.data}}`); null: the payload. */
    inputMapping: jsonb('input_mapping').$type<unknown>(),
    scheduleCron: varchar('schedule_cron', { length: 255 }),
    timezone: varchar('timezone', { length: 64 }),
    missedFirePolicy: varchar('missed_fire_policy', { length: 10 }).notNull().default('skip'),
    catchUpLimit: integer('catch_up_limit').notNull().default(10),
    /** The next due time not yet fired (schedules); the scheduler's cursor. */
    nextFireAt: tstz('next_fire_at'),
    lastFiredAt: tstz('last_fired_at'),
    /** The URL's unguessable part: `/api/v1/hooks/<hook_id>`. */
    hookId: varchar('hook_id', { length: 64 }),
    webhookAuth: varchar('webhook_auth', { length: 10 }),
    /** `whsec_…` (standard) or the bearer token, encrypted with the SecretBox (`trigger:<id>`). */
    secretEncrypted: text('secret_encrypted'),
    secretKeyId: varchar('secret_key_id', { length: 32 }),
    secretHint: varchar('secret_hint', { length: 32 }),
    webhookMode: varchar('webhook_mode', { length: 10 }),
    /** How long a sync webhook waits for the run, milliseconds. */
    syncTimeoutMs: integer('sync_timeout_ms'),
    eventType: varchar('event_type', { length: 255 }),
    eventSource: varchar('event_source', { length: 255 }),
    /** CEL over `{type, source, id, data, time}`; null: every event of the type (and source). */
    eventFilter: text('event_filter'),
    /** Webhook requests accepted per minute on this hook (429 with Retry-After over it); null: no limit. */
    rateLimitPerMinute: integer('rate_limit_per_minute').default(600),
    createdBy: uuid('created_by').references(() => users.id, { onDelete: 'set null' }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    index('idx_triggers_workflow').on(t.workflowId),
    uniqueIndex('workflow_triggers_hook_id_key').on(t.hookId),
    index('idx_triggers_due').on(t.nextFireAt).where(sql`${t.type} = 'schedule' and ${t.enabled}`),
    index('idx_triggers_event').on(t.organizationId, t.eventType).where(sql`${t.type} = 'event'`),
    check('workflow_triggers_type_check', oneOf(t.type, TRIGGER_TYPES)),
    check('workflow_triggers_overflow_check', oneOf(t.overflow, TRIGGER_OVERFLOW)),
    check('workflow_triggers_missed_check', oneOf(t.missedFirePolicy, MISSED_FIRE_POLICIES)),
    check(
      'workflow_triggers_max_concurrent_check',
      sql`${t.maxConcurrentExecutions} is null or ${t.maxConcurrentExecutions} > 0`,
    ),
    check(
      'workflow_triggers_rate_limit_check',
      sql`${t.rateLimitPerMinute} is null or ${t.rateLimitPerMinute} > 0`,
    ),
    tenantPolicy(t.organizationId),
  ],
);

export const FIRING_STATUSES = ['starting', 'started', 'queued', 'done', 'skipped', 'failed'] as const;
export type FiringStatus = (typeof FIRING_STATUSES)[number];

/**
 * Each time a trigger fired: the run it started (or why none), the due time of a schedule, the event, or the
 * webhook delivery id. The unique (trigger, due time) row makes a schedule fire exactly once per due time
 * across processes and restarts; the unique (trigger, delivery id) row refuses a replayed `webhook-id`.
 */
export const triggerFirings = pgTable(
  'trigger_firings',
  {
    id: id(),
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    triggerId: uuid('trigger_id').references(() => workflowTriggers.id, { onDelete: 'cascade' }),
    /** Agent schedules (seed 004) fire without a trigger row. */
    agentId: uuid('agent_id').references(() => agents.id, { onDelete: 'cascade' }),
    workflowId: uuid('workflow_id'),
    status: varchar('status', { length: 10 }).$type<FiringStatus>().notNull(),
    reason: text('reason'),
    dueAt: tstz('due_at'),
    eventId: uuid('event_id'),
    deliveryId: varchar('delivery_id', { length: 255 }),
    runId: uuid('run_id'),
    /** Agent schedules: calls of the agent's `webhook_url` made so far, the last response, the next retry. */
    attempts: integer('attempts').notNull().default(0),
    responseCode: integer('response_code'),
    nextAttemptAt: tstz('next_attempt_at'),
    /** The run input, kept while the firing is queued behind the trigger's limit. */
    payload: jsonb('payload').$type<unknown>(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('trigger_firings_due_key').on(t.triggerId, t.dueAt),
    uniqueIndex('trigger_firings_agent_due_key').on(t.agentId, t.dueAt),
    uniqueIndex('trigger_firings_delivery_key').on(t.triggerId, t.deliveryId),
    index('idx_firings_trigger').on(t.triggerId, t.createdAt.desc()),
    index('idx_firings_active')
      .on(t.triggerId, t.createdAt)
      .where(sql`${t.status} in ('starting', 'started', 'queued')`),
    index('idx_firings_event').on(t.eventId).where(sql`${t.eventId} is not null`),
    index('idx_firings_run').on(t.runId),
    index('idx_firings_agent_due')
      .on(t.nextAttemptAt)
      .where(sql`${t.agentId} is not null and ${t.status} = 'starting'`),
    check('trigger_firings_status_check', oneOf(t.status, FIRING_STATUSES)),
    tenantPolicy(t.organizationId),
  ],
);

/** Events received through `POST /events` (CloudEvents-like: type, source, id, data). */
export const events = pgTable(
  'events',
  {
    id: id(),
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    /** The sender's id (idempotency: one event per id and organization). */
    externalId: varchar('external_id', { length: 255 }).notNull(),
    type: varchar('type', { length: 255 }).notNull(),
    source: varchar('source', { length: 255 }).notNull(),
    data: jsonb('data').$type<unknown>().notNull().default({}),
    triggersMatched: integer('triggers_matched').notNull().default(0),
    receivedAt: createdAt(),
  },
  (t) => [
    uniqueIndex('events_org_external_id_key').on(t.organizationId, t.externalId),
    index('idx_events_org_received').on(t.organizationId, t.receivedAt.desc()),
    tenantPolicy(t.organizationId),
  ],
);

/**
 * Outbound events, written in the transaction of the change that caused them (database triggers on runs,
 * step attempts and workflows), then fanned out to the organization's sinks. `seq` orders them.
 */
export const eventOutbox = pgTable(
  'event_outbox',
  {
    id: id(),
    seq: bigserial('seq', { mode: 'number' }).notNull(),
    organizationId: uuid('organization_id').notNull(),
    type: varchar('type', { length: 100 }).notNull(),
    subjectId: uuid('subject_id'),
    payload: jsonb('payload').$type<Record<string, unknown>>().notNull(),
    createdAt: createdAt(),
    /** Set when deliveries for every sink were created (or there were none). */
    dispatchedAt: tstz('dispatched_at'),
    /** The writing transaction's id: outbound sync reads in (txid, seq) order (see sync.ts). */
    txid: xid8('txid').notNull().default(sql`pg_current_xact_id()`),
  },
  (t) => [
    uniqueIndex('event_outbox_seq_key').on(t.seq),
    index('idx_outbox_undispatched').on(t.seq).where(sql`${t.dispatchedAt} is null`),
    index('idx_outbox_org_seq').on(t.organizationId, t.seq),
    index('idx_outbox_org_txid').on(t.organizationId, t.txid, t.seq),
    tenantPolicy(t.organizationId),
  ],
);

export const SINK_KINDS = ['webhook', 'nats'] as const;
export type SinkKind = (typeof SINK_KINDS)[number];

/** Where an organization's outbound events go: a Standard Webhooks endpoint or the NATS JetStream server. */
export const eventSinks = pgTable(
  'event_sinks',
  {
    id: id(),
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    name: varchar('name', { length: 255 }).notNull(),
    kind: varchar('kind', { length: 10 }).$type<SinkKind>().notNull(),
    /** Event types delivered (`run.*` style prefixes allowed); empty: all but step events. */
    eventTypes: jsonb('event_types').$type<string[]>().notNull().default([]),
    url: text('url'),
    secretEncrypted: text('secret_encrypted'),
    secretKeyId: varchar('secret_key_id', { length: 32 }),
    secretHint: varchar('secret_hint', { length: 32 }),
    /** After a rotation, the replaced secret: deliveries are signed with both until it expires. */
    previousSecretEncrypted: text('previous_secret_encrypted'),
    previousSecretExpiresAt: tstz('previous_secret_expires_at'),
    /** NATS subject prefix; the subject is `<prefix>.<org id>.<type>`. */
    subjectPrefix: varchar('subject_prefix', { length: 100 }),
    enabled: boolean('enabled').notNull().default(true),
    /** Deliveries that gave up in a row; at the limit the sink is disabled. */
    consecutiveFailures: integer('consecutive_failures').notNull().default(0),
    disabledReason: text('disabled_reason'),
    createdBy: uuid('created_by').references(() => users.id, { onDelete: 'set null' }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    index('idx_sinks_org').on(t.organizationId),
    check('event_sinks_kind_check', oneOf(t.kind, SINK_KINDS)),
    tenantPolicy(t.organizationId),
  ],
);

export const DELIVERY_STATUSES = ['pending', 'delivered', 'failed'] as const;

/** One event to one sink: attempts with backoff, the last response, manual redelivery. */
export const eventDeliveries = pgTable(
  'event_deliveries',
  {
    id: id(),
    organizationId: uuid('organization_id').notNull(),
    sinkId: uuid('sink_id')
      .notNull()
      .references(() => eventSinks.id, { onDelete: 'cascade' }),
    outboxId: uuid('outbox_id')
      .notNull()
      .references(() => eventOutbox.id, { onDelete: 'cascade' }),
    eventType: varchar('event_type', { length: 100 }).notNull(),
    status: varchar('status', { length: 10 }).notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: tstz('next_attempt_at').notNull().defaultNow(),
    leaseUntil: tstz('lease_until'),
    responseCode: integer('response_code'),
    lastError: text('last_error'),
    durationMs: bigint('duration_ms', { mode: 'number' }),
    deliveredAt: tstz('delivered_at'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('event_deliveries_sink_outbox_key').on(t.sinkId, t.outboxId),
    index('idx_deliveries_due').on(t.nextAttemptAt).where(sql`${t.status} = 'pending'`),
    index('idx_deliveries_sink').on(t.sinkId, t.createdAt.desc()),
    check('event_deliveries_status_check', oneOf(t.status, DELIVERY_STATUSES)),
    tenantPolicy(t.organizationId),
  ],
);
