import { sql } from 'drizzle-orm';
import {
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
import { users } from './users.ts';
import { workflows } from './workflows.ts';

export const ALERT_CONDITION_KINDS = [
  'agent_offline',
  'consecutive_failures',
  'error_rate',
  'p95_latency',
  'cost',
  'eval_score',
  'budget',
] as const;
export type AlertConditionKind = (typeof ALERT_CONDITION_KINDS)[number];
export interface AlertCondition {
  kind: AlertConditionKind;
  /** consecutive_failures: how many failed results in a row. */
  count?: number;
  /**
   * error_rate (percent), p95_latency (ms), cost (currency units in the window), eval_score (mean score
   * 0–100 below which it fires), budget (percent of the organization's monthly budget spent).
   */
  threshold?: number;
  /** error_rate, p95_latency, cost, eval_score: the trailing window in minutes. */
  windowMinutes?: number;
  /** error_rate, p95_latency, cost, eval_score: fewer results than this in the window neither fire nor clear. */
  minSamples?: number;
  /** eval_score: only this evaluator's scores (by name); null or absent for all. */
  evaluator?: string | null;
}
export interface AlertChannels {
  email?: string[];
  /** Also publish alert.opened / alert.acknowledged / alert.resolved to the organization's event sinks. */
  events?: boolean;
}

export const ALERT_SUBJECT_TYPES = ['agent', 'workflow', 'organization'] as const;
export type AlertSubjectType = (typeof ALERT_SUBJECT_TYPES)[number];
export const ALERT_SEVERITIES = ['info', 'warning', 'critical'] as const;
export type AlertSeverity = (typeof ALERT_SEVERITIES)[number];

/**
 * An alert rule (seed 004 alert_configs): a condition on a subject (one agent or workflow, or every agent
 * or workflow of the organization when its id is null), a severity and channels.
 */
export const alertRules = pgTable(
  'alert_rules',
  {
    id: id(),
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    name: varchar('name', { length: 255 }).notNull(),
    subjectType: varchar('subject_type', { length: 20 }).$type<AlertSubjectType>().notNull().default('agent'),
    /** subject agent: null means every external agent of the organization. */
    agentId: uuid('agent_id').references(() => agents.id, { onDelete: 'cascade' }),
    /** subject workflow: null means every workflow of the organization. */
    workflowId: uuid('workflow_id').references(() => workflows.id, { onDelete: 'cascade' }),
    condition: jsonb('condition').$type<AlertCondition>().notNull(),
    severity: varchar('severity', { length: 10 }).$type<AlertSeverity>().notNull().default('warning'),
    /** While an alert stays open (not acknowledged), it is notified again after this many minutes. */
    cooldownMinutes: integer('cooldown_minutes').notNull().default(60),
    channels: jsonb('channels').$type<AlertChannels>().notNull().default({}),
    /** A Slack-compatible incoming webhook URL (a secret), SecretBox-encrypted with `alert_rule:<id>`. */
    slackWebhookEncrypted: text('slack_webhook_encrypted'),
    /** A generic webhook URL, SecretBox-encrypted with `alert_rule:<id>`. */
    webhookUrlEncrypted: text('webhook_url_encrypted'),
    /** Its Standard Webhooks signing secret (`whsec_…`), SecretBox-encrypted with `alert_rule_secret:<id>`. */
    webhookSecretEncrypted: text('webhook_secret_encrypted'),
    enabled: boolean('enabled').notNull().default(true),
    createdBy: uuid('created_by').references(() => users.id, { onDelete: 'set null' }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    index('idx_alert_rules_org').on(t.organizationId),
    check('alert_rules_subject_type_check', oneOf(t.subjectType, ALERT_SUBJECT_TYPES)),
    check('alert_rules_severity_check', oneOf(t.severity, ALERT_SEVERITIES)),
    check('alert_rules_cooldown_check', sql`${t.cooldownMinutes} between 1 and 10080`),
    tenantPolicy(t.organizationId),
  ],
);

export const ALERT_STATUSES = ['open', 'acknowledged', 'resolved'] as const;
export type AlertStatus = (typeof ALERT_STATUSES)[number];

/** Alert history (seed 004 alerts): at most one unresolved alert per rule and subject. */
export const alerts = pgTable(
  'alerts',
  {
    id: id(),
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    ruleId: uuid('rule_id')
      .notNull()
      .references(() => alertRules.id, { onDelete: 'cascade' }),
    /** The agent, workflow or organization the alert is about (the dedup key with the rule). */
    subjectId: uuid('subject_id').notNull(),
    agentId: uuid('agent_id').references(() => agents.id, { onDelete: 'cascade' }),
    workflowId: uuid('workflow_id').references(() => workflows.id, { onDelete: 'cascade' }),
    status: varchar('status', { length: 20 }).$type<AlertStatus>().notNull().default('open'),
    triggeredAt: tstz('triggered_at').notNull().defaultNow(),
    acknowledgedAt: tstz('acknowledged_at'),
    acknowledgedBy: uuid('acknowledged_by').references(() => users.id, { onDelete: 'set null' }),
    resolvedAt: tstz('resolved_at'),
    /** null when resolved automatically (the condition cleared). */
    resolvedBy: uuid('resolved_by').references(() => users.id, { onDelete: 'set null' }),
    resolutionComment: text('resolution_comment'),
    lastNotifiedAt: tstz('last_notified_at').notNull().defaultNow(),
    details: jsonb('details').$type<Record<string, unknown>>().notNull().default({}),
  },
  (t) => [
    uniqueIndex('alerts_one_open_key')
      .on(t.ruleId, t.subjectId)
      .where(sql`${t.status} in ('open', 'acknowledged')`),
    index('idx_alerts_org').on(t.organizationId, t.triggeredAt.desc()),
    index('idx_alerts_unresolved').on(t.lastNotifiedAt).where(sql`${t.status} = 'open'`),
    check('alerts_status_check', oneOf(t.status, ALERT_STATUSES)),
    tenantPolicy(t.organizationId),
  ],
);

export const ALERT_NOTIFICATION_CHANNELS = ['email', 'slack', 'webhook'] as const;
export const ALERT_NOTIFICATION_EVENTS = ['opened', 'reminder', 'acknowledged', 'resolved'] as const;

/**
 * The alert notification outbox: one row per alert event and channel (and email address), written in
 * the transaction that changed the alert, sent by the worker's notifier loop with retries.
 */
export const alertNotifications = pgTable(
  'alert_notifications',
  {
    id: id(),
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    alertId: uuid('alert_id')
      .notNull()
      .references(() => alerts.id, { onDelete: 'cascade' }),
    event: varchar('event', { length: 20 }).notNull(),
    channel: varchar('channel', { length: 10 }).notNull(),
    /** email: the address. */
    target: varchar('target', { length: 254 }),
    /** What the alert said at the time of the event (reason, values). */
    reason: text('reason').notNull(),
    status: varchar('status', { length: 10 }).notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: tstz('next_attempt_at').notNull().defaultNow(),
    leaseUntil: tstz('lease_until'),
    lastError: text('last_error'),
    sentAt: tstz('sent_at'),
    createdAt: createdAt(),
  },
  (t) => [
    index('idx_alert_notifications_due').on(t.nextAttemptAt).where(sql`${t.status} = 'pending'`),
    index('idx_alert_notifications_alert').on(t.alertId),
    check('alert_notifications_channel_check', oneOf(t.channel, ALERT_NOTIFICATION_CHANNELS)),
    check('alert_notifications_event_check', oneOf(t.event, ALERT_NOTIFICATION_EVENTS)),
    check('alert_notifications_status_check', oneOf(t.status, ['pending', 'sent', 'failed'] as const)),
    tenantPolicy(t.organizationId),
  ],
);
