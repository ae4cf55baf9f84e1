import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  check,
  index,
  numeric,
  pgTable,
  text,
  uniqueIndex,
  uuid,
  varchar,
} from 'drizzle-orm/pg-core';
import { createdAt, id, jsonb, oneOf, tenantPolicy, tstz, updatedAt } from './columns.ts';
import { organizations } from './organizations.ts';
import { users } from './users.ts';

export const INTEGRATION_CATEGORIES = ['llm_provider', 'tool', 'notification', 'sync'] as const;
export type IntegrationCategory = (typeof INTEGRATION_CATEGORIES)[number];
export const INTEGRATION_STATUSES = ['pending', 'connected', 'disconnected', 'error'] as const;
export type IntegrationStatus = (typeof INTEGRATION_STATUSES)[number];

/**
 * An organization's connection to an outside service (DATA_MODEL: integrations): seed 001's
 * ai_integrations (platform, encrypted credentials, status, last error, usage stats, config) and seed
 * 000's integrations (type, config, connected_at, last_used_at). LLM providers are category
 * `llm_provider`; `provider` is the model-id prefix (`openai`, `anthropic`, …, `openai-compatible`).
 *
 * Credentials are a JSON object encrypted with AES-256-GCM (`SecretBox`, bound to the row id as
 * associated data); `credentials_key_id` repeats the key id inside the ciphertext so that rotation can
 * find what is not under the current key with an index. `credential_hint` (`sk-…abcd`) is all the API
 * ever shows of a secret. Seed 001's `usage_stats` JSON became counters updated atomically per call.
 */
export const integrations = pgTable(
  'integrations',
  {
    id: id(),
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    name: varchar('name', { length: 255 }).notNull(),
    category: varchar('category', { length: 30 })
      .$type<IntegrationCategory>()
      .notNull()
      .default('llm_provider'),
    /** seed 001 `platform`, seed 000 `integration_type`. */
    provider: varchar('provider', { length: 50 }).notNull(),
    /** Base URL, headers, OpenAI organization/project, test model … never secrets. */
    config: jsonb('config').$type<Record<string, unknown>>().notNull().default({}),
    /** `v1.<keyId>.<iv>.<tag>.<data>` of the credentials JSON; NULL for keyless providers (Ollama). */
    credentialsEncrypted: text('credentials_encrypted'),
    credentialsKeyId: varchar('credentials_key_id', { length: 32 }),
    credentialHint: varchar('credential_hint', { length: 32 }),
    /** The integration used for its provider when an agent names none. */
    isDefault: boolean('is_default').notNull().default(false),
    status: varchar('status', { length: 20 }).$type<IntegrationStatus>().notNull().default('pending'),
    lastError: text('last_error'),
    lastTestedAt: tstz('last_tested_at'),
    connectedAt: tstz('connected_at'),
    /** seed 001: last Omni-Bridge sync (category `sync`). */
    lastSyncAt: tstz('last_sync_at'),
    totalRequests: bigint('total_requests', { mode: 'number' }).notNull().default(0),
    inputTokens: bigint('input_tokens', { mode: 'number' }).notNull().default(0),
    outputTokens: bigint('output_tokens', { mode: 'number' }).notNull().default(0),
    totalTokens: bigint('total_tokens', { mode: 'number' }).notNull().default(0),
    totalCost: numeric('total_cost', { precision: 20, scale: 12 }).notNull().default('0'),
    lastUsedAt: tstz('last_used_at'),
    createdBy: uuid('created_by').references(() => users.id, { onDelete: 'set null' }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('integrations_org_name_key').on(t.organizationId, t.name),
    uniqueIndex('integrations_one_default_per_provider')
      .on(t.organizationId, t.provider)
      .where(sql`${t.isDefault}`),
    index('idx_integrations_org_provider').on(t.organizationId, t.provider),
    index('idx_integrations_status').on(t.status),
    index('idx_integrations_key_id').on(t.credentialsKeyId),
    check('integrations_category_check', oneOf(t.category, INTEGRATION_CATEGORIES)),
    check('integrations_status_check', oneOf(t.status, INTEGRATION_STATUSES)),
    tenantPolicy(t.organizationId),
  ],
);
