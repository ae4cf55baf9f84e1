import { sql } from 'drizzle-orm';
import { check, index, integer, pgTable, text, uniqueIndex, uuid, varchar } from 'drizzle-orm/pg-core';
import { agents } from './agents.ts';
import { createdAt, id, jsonb, oneOf, tenantPolicy, tstz, updatedAt } from './columns.ts';
import { organizations } from './organizations.ts';

export const EXTERNAL_AGENT_STATES = ['unknown', 'online', 'offline', 'error'] as const;
export type ExternalAgentState = (typeof EXTERNAL_AGENT_STATES)[number];
export const AGENT_LOG_STATUSES = ['success', 'error', 'warning'] as const;
export type AgentLogStatus = (typeof AGENT_LOG_STATUSES)[number];

/**
 * An external agent's monitor (issue 17, seed 004 agents.api_key/last_heartbeat/status): its own API key
 * (only the SHA-256 is stored), the heartbeat window it promises, and the status derived from heartbeats.
 */
export const externalAgentMonitors = pgTable(
  'external_agent_monitors',
  {
    agentId: uuid('agent_id')
      .primaryKey()
      .references(() => agents.id, { onDelete: 'cascade' }),
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    keyHash: varchar('key_hash', { length: 64 }).notNull(),
    keyPrefix: varchar('key_prefix', { length: 16 }).notNull(),
    expectedIntervalSeconds: integer('expected_interval_seconds').notNull().default(60),
    graceSeconds: integer('grace_seconds').notNull().default(30),
    state: varchar('state', { length: 20 }).$type<ExternalAgentState>().notNull().default('unknown'),
    stateChangedAt: tstz('state_changed_at').notNull().defaultNow(),
    lastHeartbeatAt: tstz('last_heartbeat_at'),
    /** What the agent itself last said (`ok`, `error`, …). */
    reportedStatus: varchar('reported_status', { length: 50 }),
    reportedVersion: varchar('reported_version', { length: 100 }),
    metrics: jsonb('metrics').$type<Record<string, number>>().notNull().default({}),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('external_agent_monitors_key_hash_key').on(t.keyHash),
    index('idx_external_agent_monitors_due').on(t.state, t.lastHeartbeatAt),
    index('idx_external_agent_monitors_org').on(t.organizationId),
    check('external_agent_monitors_state_check', oneOf(t.state, EXTERNAL_AGENT_STATES)),
    check('external_agent_monitors_interval_check', sql`${t.expectedIntervalSeconds} between 5 and 86400`),
    check('external_agent_monitors_grace_check', sql`${t.graceSeconds} between 0 and 86400`),
    tenantPolicy(t.organizationId),
  ],
);

/** One result reported by an external agent (seed 004 agent_logs). */
export const agentLogs = pgTable(
  'agent_logs',
  {
    id: id(),
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    agentId: uuid('agent_id')
      .notNull()
      .references(() => agents.id, { onDelete: 'cascade' }),
    status: varchar('status', { length: 20 }).$type<AgentLogStatus>().notNull(),
    message: text('message'),
    details: jsonb('details').$type<Record<string, unknown>>(),
    startedAt: tstz('started_at'),
    completedAt: tstz('completed_at'),
    durationMs: integer('duration_ms'),
    createdAt: createdAt(),
  },
  (t) => [
    index('idx_agent_logs_agent').on(t.agentId, t.createdAt.desc()),
    index('idx_agent_logs_org').on(t.organizationId, t.createdAt.desc()),
    check('agent_logs_status_check', oneOf(t.status, AGENT_LOG_STATUSES)),
    check('agent_logs_duration_check', sql`${t.durationMs} is null or ${t.durationMs} >= 0`),
    tenantPolicy(t.organizationId),
  ],
);
