import { sql } from 'drizzle-orm';
import {
  boolean,
  check,
  index,
  integer,
  numeric,
  pgTable,
  real,
  text,
  uniqueIndex,
  uuid,
  varchar,
} from 'drizzle-orm/pg-core';
import { createdAt, id, jsonb, oneOf, tenantPolicy, tstz, updatedAt } from './columns.ts';
import { organizations } from './organizations.ts';
import { users } from './users.ts';

export const AGENT_KINDS = ['llm', 'code', 'external'] as const;
export type AgentKind = (typeof AGENT_KINDS)[number];
export const AGENT_TYPES = ['coordinator', 'specialist', 'analyzer', 'custom'] as const;
export type AgentType = (typeof AGENT_TYPES)[number];
export const AGENT_STATUSES = ['draft', 'active', 'inactive', 'error'] as const;
export type AgentStatus = (typeof AGENT_STATUSES)[number];
export const AGENT_FRAMEWORKS = ['langgraph', 'agno', 'crewai', 'n8n', 'custom'] as const;
export type AgentFramework = (typeof AGENT_FRAMEWORKS)[number];

/** Everything a run needs of an agent version; stored whole in `agent_versions.snapshot`. */
export interface AgentConfiguration {
  modelSettings: { model: string; temperature?: number; topP?: number; maxTokens?: number };
  systemPrompt?: string;
  promptTemplate: string;
  outputSchema?: Record<string, unknown>;
  /** A code agent's code (kind `code`): run in the sandbox like a code step instead of a model call. */
  code?: { language: 'javascript' | 'typescript'; code: string; network?: { allowedHosts: string[] } };
  /** The agent's kind, filled in from its version row when a run loads it (not stored here). */
  kind?: AgentKind;
  tools: string[];
  toolConfigs: Record<string, unknown>;
  memoryConfig: Record<string, unknown>;
  integrationId?: string;
  simulate?: Record<string, unknown>;
  /** USD a single model call of this agent may cost at most (seed 001). */
  costLimitPerRequest?: number;
  /**
   * The template the agent was made from: its limits hold at every run whatever the agent's own fields say
   * (kept across the agent's saves), and each completed call counts as a use of the template.
   */
  template?: AgentTemplateLimits;
}

export interface AgentTemplateLimits {
  id: string;
  version: number;
  /** Providers (the part of `provider:model` before the colon) the agent may call; empty: any. */
  allowedIntegrations: string[];
  /** USD per model call, decimal string. */
  costLimitPerRequest?: string;
}

/**
 * An org-level, versioned agent (DATA_MODEL: agents): seed 000's configuration (model settings, prompt
 * template, tools, tool configs, memory config, type, UI-independent), seed 002's framework, status,
 * semantic version, resources, seed 004's external-agent fields (webhook, schedule, heartbeat), seed
 * 001's cost limit per request. Every save creates an `agent_versions` row.
 */
export const agents = pgTable(
  'agents',
  {
    id: id(),
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    name: varchar('name', { length: 255 }).notNull(),
    description: text('description'),
    kind: varchar('kind', { length: 20 }).$type<AgentKind>().notNull().default('llm'),
    type: varchar('type', { length: 20 }).$type<AgentType>().notNull().default('specialist'),
    status: varchar('status', { length: 20 }).$type<AgentStatus>().notNull().default('active'),
    framework: varchar('framework', { length: 20 }).$type<AgentFramework>(),
    /** Semantic version (seed 002), bumped on every save. */
    version: varchar('version', { length: 20 }).notNull().default('1.0.0'),
    /** The current `agent_versions.version_number`. */
    versionNumber: integer('version_number').notNull().default(1),
    configuration: jsonb('configuration').$type<AgentConfiguration>().notNull(),
    modelName: varchar('model_name', { length: 255 }).notNull(),
    temperature: real('temperature'),
    maxTokens: integer('max_tokens'),
    tools: jsonb('tools').$type<string[]>().notNull().default([]),
    toolConfigs: jsonb('tool_configs').$type<Record<string, unknown>>().notNull().default({}),
    memoryConfig: jsonb('memory_config').$type<Record<string, unknown>>().notNull().default({}),
    costLimitPerRequest: numeric('cost_limit_per_request', { precision: 12, scale: 6 }),
    enabled: boolean('enabled').notNull().default(true),
    webhookUrl: text('webhook_url'),
    /** Cron expression (seed 004); with `scheduleTimezone`, when the agent runs (an external one: its `webhook_url` is called). */
    schedule: varchar('schedule', { length: 255 }),
    scheduleTimezone: varchar('schedule_timezone', { length: 64 }),
    scheduleEnabled: boolean('schedule_enabled').notNull().default(true),
    /** The next due time not yet fired; the schedule's cursor (null: set on the next scheduler pass). */
    scheduleNextFireAt: tstz('schedule_next_fire_at'),
    scheduleLastFiredAt: tstz('schedule_last_fired_at'),
    /** The run input of each scheduled run of an internal (llm or code) agent (null: `{}`). */
    scheduleInput: jsonb('schedule_input').$type<Record<string, unknown>>(),
    /** `whsec_…` signing the scheduled calls to `webhook_url`, encrypted with the SecretBox (`agent_webhook:<id>`). */
    webhookSecretEncrypted: text('webhook_secret_encrypted'),
    webhookSecretKeyId: varchar('webhook_secret_key_id', { length: 32 }),
    webhookSecretHint: varchar('webhook_secret_hint', { length: 32 }),
    lastHeartbeatAt: tstz('last_heartbeat_at'),
    resourceLimits: jsonb('resource_limits').$type<Record<string, unknown>>(),
    deployedAt: tstz('deployed_at'),
    metadata: jsonb('metadata').$type<Record<string, unknown>>().notNull().default({}),
    createdBy: uuid('created_by').references(() => users.id, { onDelete: 'set null' }),
    updatedBy: uuid('updated_by').references(() => users.id, { onDelete: 'set null' }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    deletedAt: tstz('deleted_at'),
  },
  (t) => [
    uniqueIndex('agents_org_name_key').on(t.organizationId, t.name).where(sql`${t.deletedAt} is null`),
    index('idx_agents_org').on(t.organizationId, t.createdAt.desc()),
    index('idx_agents_type').on(t.type),
    index('idx_agents_status').on(t.status),
    index('idx_agents_schedule_due')
      .on(t.scheduleNextFireAt)
      .where(sql`${t.schedule} is not null and ${t.scheduleEnabled} and ${t.deletedAt} is null`),
    index('idx_agents_name_trgm').using('gin', sql`${t.name} gin_trgm_ops`),
    check('agents_kind_check', oneOf(t.kind, AGENT_KINDS)),
    check('agents_type_check', oneOf(t.type, AGENT_TYPES)),
    check('agents_status_check', oneOf(t.status, AGENT_STATUSES)),
    check('agents_framework_check', sql`${t.framework} is null or ${oneOf(t.framework, AGENT_FRAMEWORKS)}`),
    tenantPolicy(t.organizationId),
  ],
);

/** An immutable snapshot of an agent at one save; runs pin the version they started with. */
export const agentVersions = pgTable(
  'agent_versions',
  {
    id: id(),
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    agentId: uuid('agent_id')
      .notNull()
      .references(() => agents.id, { onDelete: 'cascade' }),
    versionNumber: integer('version_number').notNull(),
    version: varchar('version', { length: 20 }).notNull(),
    name: varchar('name', { length: 255 }).notNull(),
    kind: varchar('kind', { length: 20 }).$type<AgentKind>().notNull(),
    configuration: jsonb('configuration').$type<AgentConfiguration>().notNull(),
    createdBy: uuid('created_by').references(() => users.id, { onDelete: 'set null' }),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('agent_versions_agent_version_key').on(t.agentId, t.versionNumber),
    index('idx_agent_versions_org').on(t.organizationId),
    tenantPolicy(t.organizationId),
  ],
);
