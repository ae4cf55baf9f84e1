import { sql } from 'drizzle-orm';
import { check, index, integer, pgTable, uniqueIndex, uuid, varchar } from 'drizzle-orm/pg-core';
import { createdAt, id, jsonb, tenantPolicy, updatedAt } from './columns.ts';
import { organizations } from './organizations.ts';

/** One model an alias routes to: `provider:model`, and the integration to use (default one when absent). */
export interface ModelAliasTarget {
  model: string;
  integrationId?: string;
}

/**
 * A model alias of the OpenAI-compatible gateway (`/v1/chat/completions` with `model: "<alias>"`): the
 * targets are tried in order, the next one when a target fails with an error worth retrying elsewhere.
 */
export const modelAliases = pgTable(
  'model_aliases',
  {
    id: id(),
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    alias: varchar('alias', { length: 100 }).notNull(),
    targets: jsonb('targets').$type<ModelAliasTarget[]>().notNull(),
    /** Opt-in response cache for calls through this alias (identical requests within it cost nothing). */
    cacheTtlSeconds: integer('cache_ttl_seconds'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('model_aliases_org_alias').on(t.organizationId, t.alias),
    index('idx_model_aliases_org').on(t.organizationId),
    check('model_aliases_cache_ttl_check', sql`${t.cacheTtlSeconds} IS NULL OR ${t.cacheTtlSeconds} > 0`),
    tenantPolicy(t.organizationId),
  ],
).enableRLS();

export type ModelAlias = typeof modelAliases.$inferSelect;
