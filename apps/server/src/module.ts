import type { SecretBox } from '@aiops/core';
import type { Database } from '@aiops/db';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { RateLimits } from './http/rate-limit.ts';
import type { Mailer } from './services/mailer.ts';
import type { AccessTokens } from './services/tokens.ts';
import type { ServerSettings } from './settings.ts';

/** What every feature module is built from. */
export interface ModuleDeps {
  db: Database;
  secrets: SecretBox;
  settings: ServerSettings;
  mailer: Mailer;
  tokens: AccessTokens;
  rateLimits: RateLimits;
}

/** A feature module: its routes, registered under /api/v1 from the one list in app.ts. */
export type AppModule = (deps: ModuleDeps) => FastifyPluginAsyncZod;
