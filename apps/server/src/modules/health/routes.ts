import { healthSchema, readinessSchema } from '@aiops/contracts';
import type { Database } from '@aiops/db';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';

/** `/healthz`: the process answers. `/readyz`: the database is reachable and fully migrated. */
export const healthRoutes =
  (db: Database, version: string): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      '/healthz',
      { schema: { tags: ['health'], summary: 'The process is alive', response: { 200: healthSchema } } },
      async () => ({ status: 'ok' as const }),
    );

    app.get(
      '/readyz',
      {
        schema: {
          tags: ['health'],
          summary: 'The database is reachable and every migration is applied',
          response: { 200: readinessSchema, 503: readinessSchema },
        },
      },
      async (_req, reply) => {
        const s = await db.status();
        const ready = s.reachable && s.migrations.applied === s.migrations.expected;
        return reply.status(ready ? 200 : 503).send({
          status: ready ? 'ready' : 'not_ready',
          database: { kind: db.kind, reachable: s.reachable, migrations: s.migrations },
          version,
        });
      },
    );
  };
