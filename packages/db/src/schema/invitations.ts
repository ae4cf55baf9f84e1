import { sql } from 'drizzle-orm';
import { check, index, pgTable, uniqueIndex, uuid, varchar } from 'drizzle-orm/pg-core';
import { createdAt, id, jsonb, oneOf, tenantPolicy, tstz } from './columns.ts';
import { ROLES, type Role } from './memberships.ts';
import { organizations } from './organizations.ts';
import { users } from './users.ts';

/**
 * An invitation to join an organization, sent by email. The token is shown only in the email; the row
 * keeps its SHA-256. Single use (`accepted_at`), expiring, revocable.
 */
export const invitations = pgTable(
  'invitations',
  {
    id: id(),
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    email: varchar('email', { length: 255 }).notNull(),
    role: varchar('role', { length: 20 }).$type<Role>().notNull().default('member'),
    /** Permission strings granted on top of the role once accepted. */
    permissions: jsonb('permissions').$type<string[]>().notNull().default([]),
    tokenHash: varchar('token_hash', { length: 128 }).notNull(),
    invitedBy: uuid('invited_by').references(() => users.id, { onDelete: 'set null' }),
    expiresAt: tstz('expires_at').notNull(),
    acceptedAt: tstz('accepted_at'),
    acceptedBy: uuid('accepted_by').references(() => users.id, { onDelete: 'set null' }),
    revokedAt: tstz('revoked_at'),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('invitations_token_hash_key').on(t.tokenHash),
    index('idx_invitations_org_created').on(t.organizationId, t.createdAt.desc()),
    index('idx_invitations_email').on(t.email),
    check('invitations_role_check', oneOf(t.role, ROLES)),
    check('invitations_email_lowercase_check', sql`${t.email} = lower(${t.email})`),
    tenantPolicy(t.organizationId),
  ],
);
