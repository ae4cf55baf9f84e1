import { randomBytes } from 'node:crypto';
import type { OAuthConfig } from '@aiops/config';
import type { AddressCategory } from '@aiops/providers';
import { DEFAULT_RATE_LIMITS, type RateLimitSettings } from './http/rate-limit.ts';

/** Identity settings of the server; every field has a default so tests can build an app with none. */
export interface ServerSettings {
  /** Where users reach the server: links in emails, OAuth redirect URIs. */
  publicUrl: string;
  /** HS256 key for access tokens. Default: random per process (tests); `startServer` derives it. */
  jwtSecret: Uint8Array;
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
  smtpUrl: string | undefined;
  mailFrom: string;
  /** Rate-limit counters in Redis (shared by processes) instead of memory. */
  redisUrl: string | undefined;
  oauth: OAuthConfig;
  rateLimits: RateLimitSettings;
  /** Lifetime of email verification and password reset links. */
  emailTokenTtlSeconds: number;
  /** What an organization's "allow private networks" unlocks (AIOPS_PRIVATE_NETWORK_CATEGORIES). */
  privateNetworkCategories: readonly AddressCategory[] | undefined;
  /** The agent type definitions (AIOPS_CATALOG_DIR); undefined: the starter catalog shipped with the server. */
  catalogDir: string | undefined;
  /** AIOPS_ARCHIVE_DIR: where the retention job archives expired partitions. */
  archiveDir: string;
  /** AIOPS_PLATFORM_ADMINS: emails that are platform admins once verified (besides `aiops admin grant`). */
  platformAdminEmails: readonly string[];
  /** AIOPS_BACKUP_DIR/_EVERY_HOURS/_KEEP: scheduled backups of the embedded database; undefined: none. */
  backup: { dir: string; everyHours: number; keep: number } | undefined;
}

export type SettingsInput = Partial<Omit<ServerSettings, 'rateLimits'>> & {
  rateLimits?: Partial<RateLimitSettings>;
};

export function resolveSettings(input: SettingsInput = {}): ServerSettings {
  return {
    publicUrl: input.publicUrl ?? 'http://127.0.0.1:3000',
    jwtSecret: input.jwtSecret ?? randomBytes(32),
    accessTokenTtlSeconds: input.accessTokenTtlSeconds ?? 900,
    refreshTokenTtlSeconds: input.refreshTokenTtlSeconds ?? 2_592_000,
    smtpUrl: input.smtpUrl,
    mailFrom: input.mailFrom ?? 'AI Ops Studio <no-reply@localhost>',
    redisUrl: input.redisUrl,
    oauth: input.oauth ?? {},
    rateLimits: { ...DEFAULT_RATE_LIMITS, ...input.rateLimits },
    emailTokenTtlSeconds: input.emailTokenTtlSeconds ?? 86_400,
    privateNetworkCategories: input.privateNetworkCategories,
    catalogDir: input.catalogDir,
    archiveDir: input.archiveDir ?? './.aiops/archive',
    platformAdminEmails: input.platformAdminEmails ?? [],
    backup: input.backup,
  };
}

/** Session cookies are marked Secure when the public URL is https. */
export const cookiesSecure = (s: ServerSettings) => s.publicUrl.startsWith('https://');
