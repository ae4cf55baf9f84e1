import type { ModelPort, SecretBox } from '@aiops/core';
import type { Database } from '@aiops/db';
import type { Runs, RunWatcher } from '@aiops/engine';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { RateLimits } from './http/rate-limit.ts';
import type { JobDeps } from './jobs/types.ts';
import type { RuntimeConfig } from './modules/config/runtime.ts';
import type { ApiKeyCache } from './services/auth-cache.ts';
import type { Mailer } from './services/mailer.ts';
import type { PriceOverrides } from './services/model-data.ts';
import type { PaymentPort } from './services/payments.ts';
import type { AccessTokens } from './services/tokens.ts';
import type { ServerSettings } from './settings.ts';

/** The engine as the API uses it: starting runs, watching them, calling models directly. */
export interface EngineServices {
  runs: Runs;
  watcher: RunWatcher;
  model: ModelPort;
}

/** What every feature module is built from. */
export interface ModuleDeps {
  db: Database;
  secrets: SecretBox;
  settings: ServerSettings;
  mailer: Mailer;
  tokens: AccessTokens;
  rateLimits: RateLimits;
  engine: EngineServices;
  /** Cached API-key checks; drop them after a change that a key depends on. */
  apiKeyCache: ApiKeyCache;
  /** The organizations' price overrides as the model port reads them (drop an org's after a change). */
  prices: PriceOverrides;
  /** How marketplace purchases are charged and refunded (default: the manual/invoice provider). */
  payments: PaymentPort;
  /** Feature flags and runtime settings, kept current by NOTIFY (modules/config). */
  runtimeConfig: RuntimeConfig;
}

declare module 'fastify' {
  interface FastifyInstance {
    engine: EngineServices;
    /** What scheduled jobs are given (the worker process's scheduler reads it). */
    jobDeps: JobDeps;
    /** Feature flags and runtime settings of this process (modules/config/runtime.ts). */
    runtimeConfig: RuntimeConfig;
  }
}

/** A feature module: its routes, registered under /api/v1 from the one list in app.ts. */
export type AppModule = (deps: ModuleDeps) => FastifyPluginAsyncZod;
