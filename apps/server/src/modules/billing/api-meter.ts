import type { Database } from '@aiops/db';
import type { FastifyInstance } from 'fastify';
import { ApiUsageMeter } from './ledger.ts';

declare module 'fastify' {
  interface FastifyInstance {
    /** Counts API-key requests per key and hour into the usage ledger (`api_call`). */
    apiUsageMeter: ApiUsageMeter;
  }
}

/** Every answered request made with an API key is counted (per key per hour); flushed on close too. */
export function registerApiUsageMeter(app: FastifyInstance, db: Database): void {
  const meter = new ApiUsageMeter(db);
  app.decorate('apiUsageMeter', meter);
  app.addHook('onResponse', async (request) => {
    const auth = request.auth;
    if (auth?.apiKeyId) meter.count(auth.organizationId, auth.apiKeyId);
  });
  app.addHook('preClose', async () => {
    await meter.close();
  });
}
