import { sql } from 'drizzle-orm';
import { check, index, integer, pgTable, uniqueIndex, uuid, varchar } from 'drizzle-orm/pg-core';
import { createdAt, id, jsonb, tenantPolicy, tstz } from './columns.ts';
import { organizations } from './organizations.ts';
import { users } from './users.ts';

/**
 * An API key of an organization (seed 001 api_keys, seed 003). The secret is shown once; only its hash
 * and a short prefix for display are stored.
 */
export const apiKeys = pgTable(
  'api_keys',
  {
    id: id(),
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    userId: uuid('user_id').references(() => users.id, { onDelete: 'set null' }),
    name: varchar('name', { length: 255 }).notNull(),
    keyHash: varchar('key_hash', { length: 255 }).notNull(),
    keyPrefix: varchar('key_prefix', { length: 20 }).notNull(),
    scopes: jsonb('scopes').$type<string[]>().notNull().default([]),
    /** Requests per minute. */
    rateLimit: integer('rate_limit').notNull().default(100),
    lastUsedAt: tstz('last_used_at'),
    expiresAt: tstz('expires_at'),
    revokedAt: tstz('revoked_at'),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('api_keys_key_hash_key').on(t.keyHash),
    index('idx_api_keys_org').on(t.organizationId),
    index('idx_api_keys_user_id').on(t.userId),
    check('api_keys_rate_limit_check', sql`${t.rateLimit} > 0`),
    tenantPolicy(t.organizationId),
  ],
);
