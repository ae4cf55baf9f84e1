import { sql } from 'drizzle-orm';
import { bigserial, check, index, pgPolicy, pgTable, primaryKey, uuid, varchar } from 'drizzle-orm/pg-core';
import { createdAt, jsonb, tenantPolicy, updatedAt } from './columns.ts';
import { organizations } from './organizations.ts';
import { users } from './users.ts';

/**
 * Platform operators ("platform admins"): people who run the installation, distinct from organization
 * owners. Granted and revoked only from the CLI (`aiops admin grant|revoke`); the application role may not
 * read or write this table (checks run in `db.system`).
 */
export const platformAdmins = pgTable('platform_admins', {
  userId: uuid('user_id')
    .primaryKey()
    .references(() => users.id, { onDelete: 'cascade' }),
  grantedAt: createdAt(),
});

/**
 * Global feature flags and runtime settings, one row per key (`feature/workflows`, `log_level`,
 * `rate_limits.anonymous_per_minute`, …); the value is validated by the key's Zod schema on write. Not
 * tenant data: only `db.system` reads and writes it. A change NOTIFYs `aiops_config`.
 */
export const platformConfig = pgTable('platform_config', {
  key: varchar('key', { length: 100 }).primaryKey(),
  value: jsonb('value').$type<unknown>().notNull(),
  updatedBy: uuid('updated_by').references(() => users.id, { onDelete: 'set null' }),
  updatedAt: updatedAt(),
});

/**
 * Per-organization overrides: `layer` 'operator' (set by a platform admin; wins over the global value) or
 * 'owner' (an owner opting the organization out of a feature the platform offers). Tenant table (RLS).
 */
export const organizationConfig = pgTable(
  'organization_config',
  {
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    layer: varchar('layer', { length: 10 }).$type<'operator' | 'owner'>().notNull(),
    key: varchar('key', { length: 100 }).notNull(),
    value: jsonb('value').$type<unknown>().notNull(),
    updatedBy: uuid('updated_by').references(() => users.id, { onDelete: 'set null' }),
    updatedAt: updatedAt(),
  },
  (t) => [
    primaryKey({ columns: [t.organizationId, t.layer, t.key] }),
    check('organization_config_layer_check', sql`${t.layer} IN ('operator', 'owner')`),
    tenantPolicy(t.organizationId),
    // The application role writes owners' opt-outs only; operator overrides are written in db.system.
    pgPolicy('organization_config_owner_insert', {
      as: 'restrictive',
      for: 'insert',
      to: 'public',
      withCheck: sql`${t.layer} = 'owner'`,
    }),
    pgPolicy('organization_config_owner_update', {
      as: 'restrictive',
      for: 'update',
      to: 'public',
      using: sql`${t.layer} = 'owner'`,
      withCheck: sql`${t.layer} = 'owner'`,
    }),
    pgPolicy('organization_config_owner_delete', {
      as: 'restrictive',
      for: 'delete',
      to: 'public',
      using: sql`${t.layer} = 'owner'`,
    }),
  ],
).enableRLS();

/**
 * The audit trail of global configuration changes (per-organization changes go to that organization's
 * `audit_logs`). Append-only; not readable by the application role.
 */
export const platformAuditLogs = pgTable(
  'platform_audit_logs',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    userId: uuid('user_id').references(() => users.id, { onDelete: 'set null' }),
    action: varchar('action', { length: 100 }).notNull(),
    key: varchar('key', { length: 100 }).notNull(),
    before: jsonb('before').$type<unknown>(),
    after: jsonb('after').$type<unknown>(),
    requestId: varchar('request_id', { length: 64 }),
    createdAt: createdAt(),
  },
  (t) => [index('idx_platform_audit_logs_created').on(t.createdAt)],
);

export type PlatformConfigRow = typeof platformConfig.$inferSelect;
export type OrganizationConfigRow = typeof organizationConfig.$inferSelect;
