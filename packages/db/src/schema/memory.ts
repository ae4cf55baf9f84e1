import { check, index, integer, pgTable, text, uniqueIndex, uuid, varchar } from 'drizzle-orm/pg-core';
import { createdAt, id, jsonb, oneOf, tenantPolicy, tstz, updatedAt } from './columns.ts';
import { organizations } from './organizations.ts';

export const MEMORY_ROLES = ['user', 'assistant'] as const;

/**
 * Short-term memory: the messages of a conversation thread (an agent's `memoryConfig.threadKey`, rendered),
 * oldest first. `source` (run, node, item) makes the write of one step idempotent when a step is re-run.
 */
export const memoryMessages = pgTable(
  'memory_messages',
  {
    id: id(),
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    threadKey: varchar('thread_key', { length: 500 }).notNull(),
    role: varchar('role', { length: 20 }).$type<(typeof MEMORY_ROLES)[number]>().notNull(),
    content: text('content').notNull(),
    source: varchar('source', { length: 300 }),
    runId: uuid('run_id'),
    createdAt: createdAt(),
  },
  (t) => [
    index('idx_memory_messages_thread').on(t.organizationId, t.threadKey, t.createdAt.desc()),
    uniqueIndex('memory_messages_source_key').on(t.organizationId, t.source, t.role),
    check('memory_messages_role_check', oneOf(t.role, MEMORY_ROLES)),
    tenantPolicy(t.organizationId),
  ],
);

/**
 * An organization's own prices (negotiated or custom), USD per million tokens as exact decimals. They win over
 * the shipped catalog for the same model and day (`@aiops/providers` priceFor).
 */
export const modelPrices = pgTable(
  'model_prices',
  {
    id: id(),
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    model: varchar('model', { length: 255 }).notNull(),
    effectiveFrom: varchar('effective_from', { length: 10 }).notNull(),
    effectiveTo: varchar('effective_to', { length: 10 }),
    input: varchar('input', { length: 40 }).notNull(),
    output: varchar('output', { length: 40 }).notNull(),
    cachedInput: varchar('cached_input', { length: 40 }),
    cacheWrite: varchar('cache_write', { length: 40 }),
    reasoning: varchar('reasoning', { length: 40 }),
    perRequest: varchar('per_request', { length: 40 }),
    note: varchar('note', { length: 1000 }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('model_prices_org_model_from_key').on(t.organizationId, t.model, t.effectiveFrom),
    tenantPolicy(t.organizationId),
  ],
);

/** The opt-in response cache: an answer by the SHA-256 of its request (which includes the organization). */
export const responseCache = pgTable(
  'response_cache',
  {
    id: id(),
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    key: varchar('key', { length: 64 }).notNull(),
    answer: jsonb('answer').$type<Record<string, unknown>>().notNull(),
    hits: integer('hits').notNull().default(0),
    expiresAt: tstz('expires_at').notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('response_cache_key').on(t.organizationId, t.key),
    index('idx_response_cache_expires').on(t.expiresAt),
    tenantPolicy(t.organizationId),
  ],
);
