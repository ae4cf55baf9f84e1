import { boolean, index, pgTable, text, uniqueIndex, uuid, varchar } from 'drizzle-orm/pg-core';
import { createdAt, id, tenantPolicy, tstz } from './columns.ts';
import { organizations } from './organizations.ts';
import { users } from './users.ts';

/**
 * A signed-in session of a user in one organization. Access tokens carry the session id; revoking the
 * session (logout, password change) revokes its tokens at once (seed 003's revocation list).
 */
export const sessions = pgTable(
  'sessions',
  {
    id: id(),
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    /** SHA-256 of the current refresh token; rotated on every refresh. */
    refreshTokenHash: varchar('refresh_token_hash', { length: 128 }).notNull(),
    /** The refresh token this one replaced: presenting it again is reuse, and revokes the session. */
    previousRefreshTokenHash: varchar('previous_refresh_token_hash', { length: 128 }),
    mfaVerified: boolean('mfa_verified').notNull().default(false),
    ipAddress: varchar('ip_address', { length: 45 }),
    userAgent: text('user_agent'),
    createdAt: createdAt(),
    lastUsedAt: tstz('last_used_at'),
    expiresAt: tstz('expires_at').notNull(),
    revokedAt: tstz('revoked_at'),
    revokedReason: varchar('revoked_reason', { length: 50 }),
  },
  (t) => [
    uniqueIndex('sessions_refresh_token_hash_key').on(t.refreshTokenHash),
    index('idx_sessions_previous_refresh').on(t.previousRefreshTokenHash),
    index('idx_sessions_user').on(t.userId),
    index('idx_sessions_org').on(t.organizationId),
    index('idx_sessions_expires').on(t.expiresAt),
    tenantPolicy(t.organizationId),
  ],
);
