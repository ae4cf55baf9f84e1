import { index, pgTable, text, uuid, varchar } from 'drizzle-orm/pg-core';
import { apiKeys } from './api-keys.ts';
import { createdAt, id, jsonb, tenantPolicy } from './columns.ts';
import { organizations } from './organizations.ts';
import { users } from './users.ts';

export interface AuditChanges {
  before?: Record<string, unknown> | null;
  after?: Record<string, unknown> | null;
}

/**
 * One row per mutation (seed 001 audit_logs), written in the same transaction as the change.
 * Append-only: the application role may insert and select, never update or delete.
 */
export const auditLogs = pgTable(
  'audit_logs',
  {
    id: id(),
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    userId: uuid('user_id').references(() => users.id, { onDelete: 'set null' }),
    apiKeyId: uuid('api_key_id').references(() => apiKeys.id, { onDelete: 'set null' }),
    entityType: varchar('entity_type', { length: 100 }).notNull(),
    entityId: varchar('entity_id', { length: 64 }),
    action: varchar('action', { length: 100 }).notNull(),
    /** Before/after values with secrets and personal data masked. */
    changes: jsonb('changes').$type<AuditChanges>(),
    ipAddress: varchar('ip_address', { length: 45 }),
    userAgent: text('user_agent'),
    requestId: varchar('request_id', { length: 64 }),
    metadata: jsonb('metadata').$type<Record<string, unknown>>().notNull().default({}),
    createdAt: createdAt(),
  },
  (t) => [
    index('idx_audit_logs_org_created').on(t.organizationId, t.createdAt.desc()),
    index('idx_audit_logs_user_id').on(t.userId),
    index('idx_audit_logs_entity').on(t.entityType, t.entityId),
    index('idx_audit_logs_created_at').on(t.createdAt.desc()),
    tenantPolicy(t.organizationId),
  ],
);
