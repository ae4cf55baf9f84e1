import { check, index, pgTable, uniqueIndex, uuid, varchar } from 'drizzle-orm/pg-core';
import { createdAt, id, oneOf, tstz } from './columns.ts';
import { users } from './users.ts';

export const USER_TOKEN_PURPOSES = ['email_verification', 'password_reset'] as const;
export type UserTokenPurpose = (typeof USER_TOKEN_PURPOSES)[number];

/**
 * Single-use, expiring tokens mailed to a user: email verification and password reset. Global like
 * `users` (no tenant). Only the SHA-256 of the token is stored.
 */
export const userTokens = pgTable(
  'user_tokens',
  {
    id: id(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    purpose: varchar('purpose', { length: 30 }).$type<UserTokenPurpose>().notNull(),
    tokenHash: varchar('token_hash', { length: 128 }).notNull(),
    expiresAt: tstz('expires_at').notNull(),
    usedAt: tstz('used_at'),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('user_tokens_token_hash_key').on(t.tokenHash),
    index('idx_user_tokens_user').on(t.userId, t.purpose),
    check('user_tokens_purpose_check', oneOf(t.purpose, USER_TOKEN_PURPOSES)),
  ],
);
