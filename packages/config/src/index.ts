import { envSchema } from './schema.ts';

export type DatabaseConfig =
  | { kind: 'pglite'; dataDir: string }
  | { kind: 'postgres'; url: string; poolSize: number };

export interface Config {
  env: 'development' | 'production' | 'test';
  host: string;
  port: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  database: DatabaseConfig;
  bodyLimitBytes: number;
  shutdownTimeoutMs: number;
  trustProxy: boolean;
  encryption: {
    /** `id:base64key,…` from AIOPS_ENCRYPTION_KEYS; unset: keys come from `keyFile` (created if missing). */
    keys: string | undefined;
    currentKeyId: string | undefined;
    keyFile: string;
  };
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

  const parsed = envSchema.safeParse(merged);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const variable = issue.path.join('.') || '(environment)';
    const value = merged[variable];
    const shown = value === undefined ? 'is missing' : `= ${JSON.stringify(redact(variable, value))}`;
    throw new ConfigError(`Invalid configuration: ${variable} ${shown}: ${issue.message}`);
  }
  const e = parsed.data;
  const database: DatabaseConfig = e.DATABASE_URL
    ? { kind: 'postgres', url: e.DATABASE_URL, poolSize: e.AIOPS_DB_POOL_SIZE }
    : { kind: 'pglite', dataDir: e.AIOPS_DATA_DIR === ':memory:' ? 'memory' : e.AIOPS_DATA_DIR };
  return {
    env: e.NODE_ENV,
    host: e.HOST,
    port: e.PORT,
    logLevel: e.LOG_LEVEL,
    database,
    bodyLimitBytes: e.AIOPS_BODY_LIMIT_BYTES,
    shutdownTimeoutMs: e.AIOPS_SHUTDOWN_TIMEOUT_MS,
    trustProxy: e.AIOPS_TRUST_PROXY,
    encryption: {
      keys: e.AIOPS_ENCRYPTION_KEYS,
      currentKeyId: e.AIOPS_ENCRYPTION_KEY_ID,
      keyFile: e.AIOPS_KEY_FILE,
    },
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
