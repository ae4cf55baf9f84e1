import { sql } from 'drizzle-orm';
import { boolean, check, index, integer, pgTable, text, uniqueIndex, varchar } from 'drizzle-orm/pg-core';
import { createdAt, id, jsonb, oneOf, tstz, updatedAt } from './columns.ts';

export const AUTH_PROVIDERS = ['email', 'google', 'microsoft', 'github'] as const;
export type AuthProvider = (typeof AUTH_PROVIDERS)[number];

/**
 * A person. Users are global (DATA_MODEL: tenancy); `memberships` joins them to organizations with a
 * role. Fields of seeds 000, 001, 002, 003 and 004. Emails are stored lower-cased. The per-user `role`
 * and `permissions` of seed 000 live on the membership; subscription fields of 001/002 on the org.
 */
export const users = pgTable(
  'users',
  {
    id: id(),
    email: varchar('email', { length: 255 }).notNull(),
    username: varchar('username', { length: 255 }),
    emailVerified: boolean('email_verified').notNull().default(false),
    emailVerifiedAt: tstz('email_verified_at'),
    passwordHash: varchar('password_hash', { length: 255 }),
    authProvider: varchar('auth_provider', { length: 20 }).$type<AuthProvider>().notNull().default('email'),
    authProviderId: varchar('auth_provider_id', { length: 255 }),
    fullName: varchar('full_name', { length: 255 }),
    firstName: varchar('first_name', { length: 100 }),
    lastName: varchar('last_name', { length: 100 }),
    avatarUrl: text('avatar_url'),
    preferences: jsonb('preferences').$type<Record<string, unknown>>().notNull().default({}),
    mfaEnabled: boolean('mfa_enabled').notNull().default(false),
    /** AES-256-GCM ciphertext with its key id, never the plain secret. */
    mfaSecret: text('mfa_secret'),
    /** Hashes of unused recovery codes. */
    mfaRecoveryCodes: jsonb('mfa_recovery_codes').$type<string[]>().notNull().default([]),
    /** The last TOTP time step accepted: a code is good once (no replay within its window). */
    mfaLastUsedStep: integer('mfa_last_used_step'),
    failedLoginCount: integer('failed_login_count').notNull().default(0),
    lockedUntil: tstz('locked_until'),
    passwordChangedAt: tstz('password_changed_at'),
    isActive: boolean('is_active').notNull().default(true),
    lastLoginAt: tstz('last_login_at'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    deletedAt: tstz('deleted_at'),
  },
  (t) => [
    uniqueIndex('users_email_key').on(t.email),
    uniqueIndex('users_username_key').on(t.username),
    uniqueIndex('users_auth_provider_key')
      .on(t.authProvider, t.authProviderId)
      .where(sql`${t.authProviderId} is not null`),
    index('idx_users_created_at').on(t.createdAt),
    check('users_auth_provider_check', oneOf(t.authProvider, AUTH_PROVIDERS)),
    check('users_email_lowercase_check', sql`${t.email} = lower(${t.email})`),
  ],
);
