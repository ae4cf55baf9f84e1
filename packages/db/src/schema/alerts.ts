import { sql } from 'drizzle-orm';
import { boolean, check, index, jsonb, pgTable, text, uniqueIndex, uuid, varchar } from 'drizzle-orm/pg-core';
import { agents } from './agents.ts';
import { createdAt, id, oneOf, tenantPolicy, tstz, updatedAt } from './columns.ts';
import { organizations } from './organizations.ts';
import { users } from './users.ts';

export const ALERT_CONDITION_KINDS = ['agent_offline', 'consecutive_failures'] as const;
export type AlertConditionKind = (typeof ALERT_CONDITION_KINDS)[number];
export interface AlertCondition {
  kind: AlertConditionKind;
  /** consecutive_failures: how many error logs in a row. */
  count?: number;
}
export interface AlertChannels {
  email?: string[];
}

/** An alert rule (seed 004 alert_configs): a condition on one external agent or all of them, and channels. */
export const alertRules = pgTable(
  'alert_rules',
  {
    id: id(),
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    name: varchar('name', { length: 255 }).notNull(),
    /** null: every external agent of the organization. */
    agentId: uuid('agent_id').references(() => agents.id, { onDelete: 'cascade' }),
    condition: jsonb('condition').$type<AlertCondition>().notNull(),
    channels: jsonb('channels').$type<AlertChannels>().notNull().default({}),
    /** A Slack-compatible incoming webhook URL (a secret), SecretBox-encrypted with `alert_rule:<id>`. */
    slackWebhookEncrypted: text('slack_webhook_encrypted'),
    enabled: boolean('enabled').notNull().default(true),
    createdBy: uuid('created_by').references(() => users.id, { onDelete: 'set null' }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index('idx_alert_rules_org').on(t.organizationId), tenantPolicy(t.organizationId)],
);

export const ALERT_STATUSES = ['open', 'resolved'] as const;
export type AlertStatus = (typeof ALERT_STATUSES)[number];

/** Alert history (seed 004 alerts): at most one open alert per rule and agent. */
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
    agentId: uuid('agent_id')
      .notNull()
      .references(() => agents.id, { onDelete: 'cascade' }),
    status: varchar('status', { length: 20 }).$type<AlertStatus>().notNull().default('open'),
    triggeredAt: tstz('triggered_at').notNull().defaultNow(),
    resolvedAt: tstz('resolved_at'),
    details: jsonb('details').$type<Record<string, unknown>>().notNull().default({}),
  },
  (t) => [
    uniqueIndex('alerts_one_open_key').on(t.ruleId, t.agentId).where(sql`${t.status} = 'open'`),
    index('idx_alerts_org').on(t.organizationId, t.triggeredAt.desc()),
    check('alerts_status_check', oneOf(t.status, ALERT_STATUSES)),
    tenantPolicy(t.organizationId),
  ],
);
