import { check, index, pgTable, uniqueIndex, uuid, varchar } from 'drizzle-orm/pg-core';
import { createdAt, id, oneOf, tstz } from './columns.ts';
import { users } from './users.ts';

export const OAUTH_PROVIDERS = ['google', 'microsoft', 'github'] as const;
export type OAuthProvider = (typeof OAUTH_PROVIDERS)[number];

/**
 * A sign-in identity at an outside provider linked to a user (a user may link several). `users.auth_provider`
 * (seed 000) keeps the provider the account was created with; this table keeps every linked one.
 */
export const authIdentities = pgTable(
  'auth_identities',
  {
    id: id(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    provider: varchar('provider', { length: 20 }).$type<OAuthProvider>().notNull(),
    /** The provider's stable subject id (OIDC `sub`, GitHub user id). */
    subject: varchar('subject', { length: 255 }).notNull(),
    email: varchar('email', { length: 255 }),
    createdAt: createdAt(),
    lastUsedAt: tstz('last_used_at'),
  },
  (t) => [
    uniqueIndex('auth_identities_provider_subject_key').on(t.provider, t.subject),
    index('idx_auth_identities_user').on(t.userId),
    check('auth_identities_provider_check', oneOf(t.provider, OAUTH_PROVIDERS)),
  ],
);
