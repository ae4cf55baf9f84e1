import type { z } from 'zod';
import { envSchema, type PRIVATE_NETWORK_CATEGORIES } from './schema.ts';

export { PRIVATE_NETWORK_CATEGORIES } from './schema.ts';
export type PrivateNetworkCategory = (typeof PRIVATE_NETWORK_CATEGORIES)[number];

export type DatabaseConfig =
  | { kind: 'pglite'; dataDir: string }
  | { kind: 'postgres'; url: string; poolSize: number };

export interface Config {
  env: 'development' | 'production' | 'test';
  host: string;
  port: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  database: DatabaseConfig;
  /** AIOPS_ARCHIVE_DIR: expired partitions are written here (gzip JSON lines) before they are dropped. */
  archiveDir: string;
  bodyLimitBytes: number;
  shutdownTimeoutMs: number;
  /** all: API and worker in one process; api: HTTP only; worker: executes steps (and answers health probes). */
  role: 'all' | 'api' | 'worker';
  /** Seed a demo user, organization and workflows into an empty database (auto: only on PGlite). */
  demo: boolean;
  worker: {
    concurrency: number;
    leaseMs: number;
    pollMs: number;
    mcpStdioCommands: string[];
    /** AIOPS_PRIVATE_NETWORK_CATEGORIES; undefined: the default set. */
    privateNetworkCategories: PrivateNetworkCategory[] | undefined;
    /** AIOPS_TRACING: execution logs and spans written with each step's completion. */
    tracing: boolean;
    /** AIOPS_CODE_THREADS: sandbox threads per memory class of the code-step pool. */
    codeThreads: number;
  };
  /** AIOPS_METRICS_TOKEN: the bearer token `/metrics` scrapes must send; undefined: open. */
  metricsToken: string | undefined;
  trustProxy: boolean;
  encryption: {
    /** `id:base64key,…` from AIOPS_ENCRYPTION_KEYS; unset: keys come from `keyFile` (created if missing). */
    keys: string | undefined;
    currentKeyId: string | undefined;
    keyFile: string;
  };
  /** The address users reach the server at (links in emails, OAuth redirect URIs). */
  publicUrl: string;
  auth: {
    /** Unset: derived from the encryption keyring (HKDF), so no setup is needed. */
    jwtSecret: string | undefined;
    accessTokenTtlSeconds: number;
    refreshTokenTtlSeconds: number;
  };
  mail: {
    /** Unset: mails are written to the log instead of sent. */
    smtpUrl: string | undefined;
    from: string;
  };
  /** Set: rate-limit counters live in Redis, shared by every server process. Unset: in memory. */
  redisUrl: string | undefined;
  /** The NATS server of NATS event sinks (default nats://127.0.0.1:4222). */
  natsUrl: string;
  oauth: OAuthConfig;
  /** AIOPS_CATALOG_DIR: the agent type definitions; undefined: the starter catalog shipped with the server. */
  catalogDir: string | undefined;
  /** AIOPS_PLATFORM_ADMINS: emails that are platform admins once verified (besides `aiops admin grant`). */
  platformAdminEmails: string[];
  /** AIOPS_BACKUP_DIR (PGlite only): the running server writes a backup every `everyHours`, keeps `keep`. */
  backup: BackupScheduleConfig | undefined;
}

export interface BackupScheduleConfig {
  dir: string;
  everyHours: number;
  keep: number;
}

export interface OidcProviderConfig {
  clientId: string;
  clientSecret: string;
  issuer: string;
}
export interface GithubProviderConfig {
  clientId: string;
  clientSecret: string;
  /** https://github.com, or a GitHub Enterprise server */
  url: string;
  apiUrl: string;
}
/** Sign-in providers; one is enabled when its client id and secret are both set. */
export interface OAuthConfig {
  google?: OidcProviderConfig;
  microsoft?: OidcProviderConfig;
  github?: GithubProviderConfig;
}

/** A configuration value is missing or wrong. The message names the variable and what to fix. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

export interface ConfigOverrides {
  port?: number;
  host?: string;
  dataDir?: string;
  keyFile?: string;
  databaseUrl?: string;
  logLevel?: Config['logLevel'];
  role?: Config['role'];
}

/**
 * Reads and validates the process configuration. Throws ConfigError with one line naming the first bad
 * variable. `env` defaults to the process environment; overrides come from CLI flags.
 */
export function loadConfig(
  env: Record<string, string | undefined> = process.env,
  overrides: ConfigOverrides = {},
): Config {
  const merged: Record<string, string | undefined> = { ...env };
  if (overrides.port !== undefined) merged.PORT = String(overrides.port);
  if (overrides.host !== undefined) merged.HOST = overrides.host;
  if (overrides.dataDir !== undefined) merged.AIOPS_DATA_DIR = overrides.dataDir;
  if (overrides.keyFile !== undefined) merged.AIOPS_KEY_FILE = overrides.keyFile;
  if (overrides.databaseUrl !== undefined) merged.DATABASE_URL = overrides.databaseUrl;
  if (overrides.logLevel !== undefined) merged.LOG_LEVEL = overrides.logLevel;
  if (overrides.role !== undefined) merged.AIOPS_ROLE = overrides.role;

  const parsed = envSchema.safeParse(merged);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const variable = issue.path.join('.') || '(environment)';
    const value = merged[variable];
    const shown = value === undefined ? 'is missing' : `= ${JSON.stringify(redact(variable, value))}`;
    throw new ConfigError(`Invalid configuration: ${variable} ${shown}: ${issue.message}`);
  }
  const e = parsed.data;
  if (e.AIOPS_BACKUP_DIR && e.DATABASE_URL) {
    throw new ConfigError(
      'Invalid configuration: AIOPS_BACKUP_DIR is for the embedded database (PGlite) only: with DATABASE_URL, back PostgreSQL up with pg_dump or its point-in-time recovery (README "Backups of the database")',
    );
  }
  const database: DatabaseConfig = e.DATABASE_URL
    ? { kind: 'postgres', url: e.DATABASE_URL, poolSize: e.AIOPS_DB_POOL_SIZE }
    : { kind: 'pglite', dataDir: e.AIOPS_DATA_DIR === ':memory:' ? 'memory' : e.AIOPS_DATA_DIR };
  return {
    env: e.NODE_ENV,
    host: e.HOST,
    port: e.PORT,
    logLevel: e.LOG_LEVEL,
    database,
    archiveDir: e.AIOPS_ARCHIVE_DIR,
    bodyLimitBytes: e.AIOPS_BODY_LIMIT_BYTES,
    shutdownTimeoutMs: e.AIOPS_SHUTDOWN_TIMEOUT_MS,
    role: e.AIOPS_ROLE,
    demo: e.AIOPS_DEMO === 'true' || (e.AIOPS_DEMO === 'auto' && !e.DATABASE_URL),
    worker: {
      concurrency: e.AIOPS_WORKER_CONCURRENCY,
      leaseMs: e.AIOPS_WORKER_LEASE_MS,
      pollMs: e.AIOPS_WORKER_POLL_MS,
      mcpStdioCommands: e.AIOPS_MCP_STDIO_COMMANDS.split(',')
        .map((c) => c.trim())
        .filter(Boolean),
      privateNetworkCategories: e.AIOPS_PRIVATE_NETWORK_CATEGORIES,
      tracing: e.AIOPS_TRACING,
      codeThreads: e.AIOPS_CODE_THREADS,
    },
    metricsToken: e.AIOPS_METRICS_TOKEN,
    trustProxy: e.AIOPS_TRUST_PROXY,
    encryption: {
      keys: e.AIOPS_ENCRYPTION_KEYS,
      currentKeyId: e.AIOPS_ENCRYPTION_KEY_ID,
      keyFile: e.AIOPS_KEY_FILE,
    },
    publicUrl: e.AIOPS_PUBLIC_URL ?? `http://${publicHost(e.HOST)}:${e.PORT}`,
    auth: {
      jwtSecret: e.AIOPS_JWT_SECRET,
      accessTokenTtlSeconds: e.AIOPS_ACCESS_TOKEN_TTL_SECONDS,
      refreshTokenTtlSeconds: e.AIOPS_REFRESH_TOKEN_TTL_SECONDS,
    },
    mail: { smtpUrl: e.SMTP_URL, from: e.SMTP_FROM },
    redisUrl: e.REDIS_URL,
    natsUrl: e.NATS_URL,
    oauth: oauthConfig(e),
    catalogDir: e.AIOPS_CATALOG_DIR,
    platformAdminEmails: e.AIOPS_PLATFORM_ADMINS,
    backup: e.AIOPS_BACKUP_DIR
      ? { dir: e.AIOPS_BACKUP_DIR, everyHours: e.AIOPS_BACKUP_EVERY_HOURS, keep: e.AIOPS_BACKUP_KEEP }
      : undefined,
  };
}

function publicHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return 'localhost';
  return host.includes(':') ? `[${host}]` : host;
}

function oauthConfig(e: z.output<typeof envSchema>): OAuthConfig {
  const pair = (id: string | undefined, secret: string | undefined, name: string) => {
    if (!id && !secret) return undefined;
    if (!id || !secret) {
      throw new ConfigError(
        `Invalid configuration: AIOPS_${name}_CLIENT_ID and AIOPS_${name}_CLIENT_SECRET must be set together`,
      );
    }
    return { clientId: id, clientSecret: secret };
  };
  const google = pair(e.AIOPS_GOOGLE_CLIENT_ID, e.AIOPS_GOOGLE_CLIENT_SECRET, 'GOOGLE');
  const microsoft = pair(e.AIOPS_MICROSOFT_CLIENT_ID, e.AIOPS_MICROSOFT_CLIENT_SECRET, 'MICROSOFT');
  const github = pair(e.AIOPS_GITHUB_CLIENT_ID, e.AIOPS_GITHUB_CLIENT_SECRET, 'GITHUB');
  const tenant = e.AIOPS_MICROSOFT_TENANT ?? 'common';
  return {
    ...(google ? { google: { ...google, issuer: e.AIOPS_GOOGLE_ISSUER } } : {}),
    ...(microsoft
      ? {
          microsoft: {
            ...microsoft,
            issuer: e.AIOPS_MICROSOFT_ISSUER ?? `https://login.microsoftonline.com/${tenant}/v2.0`,
          },
        }
      : {}),
    ...(github ? { github: { ...github, url: e.AIOPS_GITHUB_URL, apiUrl: e.AIOPS_GITHUB_API_URL } } : {}),
  };
}

/** Never echo a secret back in an error message: passwords in URLs are masked. */
function redact(variable: string, value: string): string {
  if (/URL$/.test(variable)) return value.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
  if (/(SECRET|KEY|PASSWORD|TOKEN)/.test(variable)) return '***';
  return value;
}

/** For tests and tools that need the test database URL without reading process.env themselves. */
export function testDatabaseUrl(env: Record<string, string | undefined> = process.env): string | undefined {
  return env.DATABASE_URL || undefined;
}
