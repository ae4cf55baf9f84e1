import { z } from 'zod';

/** Turns "" into undefined so an empty variable means "not set". */
const optional = <T extends z.ZodType>(schema: T) =>
  z.preprocess((v) => (v === '' ? undefined : v), schema.optional());

/** Address categories an operator may let organizations reach (packages/providers/src/net/address.ts). */
export const PRIVATE_NETWORK_CATEGORIES = [
  'loopback',
  'private',
  'cgnat',
  'link-local',
  'unique-local',
  'metadata',
  'reserved',
] as const;

const port = z.coerce.number().int().min(0).max(65535);

const postgresUrl = z
  .string()
  .refine((v) => /^postgres(ql)?:\/\//.test(v), 'must start with postgres:// or postgresql://')
  .refine((v) => {
    try {
      new URL(v);
      return true;
    } catch {
      return false;
    }
  }, 'is not a valid URL');

const httpUrl = z
  .string()
  .refine((v) => /^https?:\/\/[^/]/.test(v), 'must be an http:// or https:// URL')
  .transform((v) => v.replace(/\/+$/, ''));

/**
 * The process configuration. Every variable the product reads is here; nothing else reads process.env.
 * Names are the environment variable names; `loadConfig` maps them onto `Config`.
 */
export const envSchema = z.object({
  NODE_ENV: optional(z.enum(['development', 'production', 'test'])).default('development'),
  HOST: optional(z.string().min(1)).default('127.0.0.1'),
  PORT: optional(port).default(3000),
  LOG_LEVEL: optional(z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])).default('info'),
  DATABASE_URL: optional(postgresUrl),
  AIOPS_DATA_DIR: optional(z.string().min(1)).default('./.aiops/data'),
  /** Where the retention job writes expired partitions (gzip JSON lines) before dropping them. */
  AIOPS_ARCHIVE_DIR: optional(z.string().min(1)).default('./.aiops/archive'),
  /** Scheduled backups of the embedded database (PGlite only): written here; unset: none. */
  AIOPS_BACKUP_DIR: optional(z.string().min(1)),
  AIOPS_BACKUP_EVERY_HOURS: optional(z.coerce.number().int().min(1).max(720)).default(24),
  AIOPS_BACKUP_KEEP: optional(z.coerce.number().int().min(1).max(1000)).default(7),
  /** Emails of platform admins besides those granted with `aiops admin grant` (honoured once verified). */
  AIOPS_PLATFORM_ADMINS: optional(
    z
      .string()
      .transform((v) =>
        v
          .split(',')
          .map((e) => e.trim().toLowerCase())
          .filter(Boolean),
      )
      .pipe(z.array(z.email('must be a comma-separated list of email addresses'))),
  ).default([]),
  AIOPS_DB_POOL_SIZE: optional(z.coerce.number().int().min(1).max(200)).default(10),
  AIOPS_BODY_LIMIT_BYTES: optional(z.coerce.number().int().min(1024)).default(1_048_576),
  AIOPS_SHUTDOWN_TIMEOUT_MS: optional(z.coerce.number().int().min(0)).default(10_000),
  AIOPS_ENCRYPTION_KEYS: optional(
    z
      .string()
      .regex(
        /^\s*[A-Za-z0-9_-]{1,32}:[A-Za-z0-9+/]{43}=\s*(,\s*[A-Za-z0-9_-]{1,32}:[A-Za-z0-9+/]{43}=\s*)*$/,
        'must be <keyId>:<32-byte base64 key>[,<keyId>:<key>…], e.g. k1:$(openssl rand -base64 32)',
      ),
  ),
  AIOPS_ENCRYPTION_KEY_ID: optional(
    z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, 'must be a key id of AIOPS_ENCRYPTION_KEYS'),
  ),
  AIOPS_KEY_FILE: optional(z.string().min(1)).default('./.aiops/keys'),
  AIOPS_DEMO: optional(z.enum(['auto', 'true', 'false'])).default('auto'),
  AIOPS_ROLE: optional(z.enum(['all', 'api', 'worker'])).default('all'),
  AIOPS_WORKER_CONCURRENCY: optional(z.coerce.number().int().min(1).max(10_000)).default(64),
  /** Sandbox threads per memory class of a worker's code-step pool (QuickJS in worker threads). */
  AIOPS_CODE_THREADS: optional(z.coerce.number().int().min(1).max(64)).default(2),
  AIOPS_WORKER_LEASE_MS: optional(z.coerce.number().int().min(1000).max(3_600_000)).default(30_000),
  AIOPS_WORKER_POLL_MS: optional(z.coerce.number().int().min(10).max(60_000)).default(500),
  /**
   * What an organization's "allow private networks" unlocks for outbound HTTP (tools, MCP, provider base
   * URLs): comma-separated categories, or `none` (no organization may reach private addresses).
   */
  AIOPS_PRIVATE_NETWORK_CATEGORIES: optional(
    z
      .string()
      .transform((v) => (v.trim() === 'none' ? [] : v.split(',').map((c) => c.trim())))
      .refine(
        (list) => list.every((c) => (PRIVATE_NETWORK_CATEGORIES as readonly string[]).includes(c)),
        `must be none or a comma-separated list of ${PRIVATE_NETWORK_CATEGORIES.join(', ')}`,
      )
      .transform((list) => list as (typeof PRIVATE_NETWORK_CATEGORIES)[number][]),
  ),
  /** Commands an agent's MCP server may start over stdio, comma-separated (none by default). */
  AIOPS_MCP_STDIO_COMMANDS: optional(z.string().max(10_000)).default(''),
  AIOPS_TRUST_PROXY: optional(z.enum(['true', 'false']))
    .default('false')
    .transform((v) => v === 'true'),
  AIOPS_PUBLIC_URL: optional(httpUrl),
  /** Execution logs and spans written with each step's completion (on by default). */
  AIOPS_TRACING: optional(z.enum(['on', 'off'], { message: 'must be on or off' }))
    .default('on')
    .transform((v) => v === 'on'),
  /** Set: `/metrics` scrapes must send it as a bearer token. */
  AIOPS_METRICS_TOKEN: optional(z.string().min(16, 'must be at least 16 characters').max(512)),
  /** A directory of agent type definition files (JSON and YAML) replacing the shipped starter catalog. */
  AIOPS_CATALOG_DIR: optional(z.string().min(1).max(4096)),
  AIOPS_JWT_SECRET: optional(
    z.string().min(32, 'must be at least 32 characters (e.g. openssl rand -base64 48)'),
  ),
  AIOPS_ACCESS_TOKEN_TTL_SECONDS: optional(z.coerce.number().int().min(30).max(86_400)).default(900),
  AIOPS_REFRESH_TOKEN_TTL_SECONDS: optional(z.coerce.number().int().min(300).max(31_536_000)).default(
    2_592_000,
  ),
  SMTP_URL: optional(
    z
      .string()
      .refine((v) => /^smtps?:\/\/[^/]/.test(v), 'must be smtp://[user:password@]host:port or smtps://…'),
  ),
  SMTP_FROM: optional(z.string().min(3)).default('AI Ops Studio <no-reply@localhost>'),
  REDIS_URL: optional(
    z.string().refine((v) => /^rediss?:\/\/[^/]/.test(v), 'must be redis://host:port or rediss://…'),
  ),
  /** The NATS server that organizations' NATS event sinks publish to (JetStream). */
  NATS_URL: optional(
    z.string().refine((v) => /^(nats|tls):\/\/[^/]/.test(v), 'must be nats://host:port or tls://host:port'),
  ).default('nats://127.0.0.1:4222'),
  AIOPS_GOOGLE_CLIENT_ID: optional(z.string().min(1)),
  AIOPS_GOOGLE_CLIENT_SECRET: optional(z.string().min(1)),
  AIOPS_GOOGLE_ISSUER: optional(httpUrl).default('https://accounts.google.com'),
  AIOPS_MICROSOFT_CLIENT_ID: optional(z.string().min(1)),
  AIOPS_MICROSOFT_CLIENT_SECRET: optional(z.string().min(1)),
  AIOPS_MICROSOFT_TENANT: optional(
    z.string().regex(/^[A-Za-z0-9.-]{1,100}$/, 'must be a tenant id or domain'),
  ),
  AIOPS_MICROSOFT_ISSUER: optional(httpUrl),
  AIOPS_GITHUB_CLIENT_ID: optional(z.string().min(1)),
  AIOPS_GITHUB_CLIENT_SECRET: optional(z.string().min(1)),
  AIOPS_GITHUB_URL: optional(httpUrl).default('https://github.com'),
  AIOPS_GITHUB_API_URL: optional(httpUrl).default('https://api.github.com'),
});

export type Env = z.input<typeof envSchema>;
