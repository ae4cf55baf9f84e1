import { randomUUID } from 'node:crypto';
import type { SecretBox } from '@aiops/core';
import type { Database } from '@aiops/db';
import Fastify, { type FastifyInstance } from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { DestinationStream } from 'pino';
import { registerErrorHandling } from './http/errors.ts';
import { registerOpenApi } from './http/openapi.ts';
import { healthRoutes } from './modules/health/routes.ts';
import { VERSION } from './version.ts';

export interface AppOptions {
  db: Database;
  /** Encrypts and decrypts secrets at rest (provider keys, MFA seeds, webhook secrets). */
  secrets: SecretBox;
  logLevel?: string;
  /** Where JSON log lines go (default stdout); tests pass a stream to read them. */
  logStream?: DestinationStream;
  bodyLimitBytes?: number;
  trustProxy?: boolean;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/** Headers and fields whose values never reach a log line. */
export const LOG_REDACT = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
];

/** Builds the HTTP application: plugins, error handling and every module's routes. Does not listen. */
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: {
      level: options.logLevel ?? 'info',
      redact: { paths: LOG_REDACT, censor: '[redacted]' },
      ...(options.logStream ? { stream: options.logStream } : {}),
    },
    bodyLimit: options.bodyLimitBytes ?? 1_048_576,
    trustProxy: options.trustProxy ?? false,
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    return503OnClosing: true,
  }).withTypeProvider<ZodTypeProvider>();

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  // JSON only: a text/plain body on a JSON route is a wrong content type (415), not a string to validate.
  app.removeContentTypeParser('text/plain');
  app.addHook('onRequest', async (req, reply) => {
    reply.header('x-request-id', req.id);
  });
  // While shutting down, answers in flight close their keep-alive connection so the server can stop.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onSend', async (_req, reply) => {
    if (closing) reply.header('connection', 'close');
  });
  registerErrorHandling(app);
  await registerOpenApi(app, VERSION);

  await app.register(healthRoutes(options.db, VERSION));
  return app;
}
