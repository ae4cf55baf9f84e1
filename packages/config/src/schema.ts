import { z } from 'zod';

/** Turns "" into undefined so an empty variable means "not set". */
const optional = <T extends z.ZodType>(schema: T) =>
  z.preprocess((v) => (v === '' ? undefined : v), schema.optional());

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
  AIOPS_TRUST_PROXY: optional(z.enum(['true', 'false']))
    .default('false')
    .transform((v) => v === 'true'),
});

export type Env = z.input<typeof envSchema>;
