import {
  idParamsSchema,
  logPageSchema,
  runLogsQuerySchema,
  traceIdParamsSchema,
  traceListQuerySchema,
  traceSchema,
  traceSummarySchema,
} from '@aiops/contracts';
import { z } from 'zod';
import type { AppModule } from '../../module.ts';
import { otlpRoutes } from './otlp-routes.ts';
import * as service from './service.ts';

const tags = ['observability'];

/** Execution logs and traces: a run's log lines and span tree, any trace by id, the list of traces. */
export const observabilityModule: AppModule = (deps) => async (app) => {
  await app.register(otlpRoutes(deps));
  app.get(
    '/runs/:id/logs',
    {
      config: { permission: 'run:read' },
      schema: {
        tags,
        summary: "A run's log lines, oldest first, a page at a time",
        description:
          'Filters: `level` (comma-separated), `stepId` (a step id or node id), `q` (full-text search on the ' +
          'message). Pass `nextCursor` as `cursor` for the next page. Live: `GET /runs/:id/events?logs=true`.',
        params: idParamsSchema,
        querystring: runLogsQuerySchema,
        response: { 200: logPageSchema },
      },
    },
    async (request) => service.runLogs(request, request.params.id, request.query),
  );
  app.get(
    '/runs/:id/trace',
    {
      config: { permission: 'run:read' },
      schema: {
        tags,
        summary: "A run's trace: the run's span, its step attempts, model, tool and MCP calls (depth first)",
        params: idParamsSchema,
        response: { 200: traceSchema },
      },
    },
    async (request) => service.runTrace(request, request.params.id),
  );
  app.get(
    '/traces',
    {
      config: { permission: 'run:read' },
      schema: {
        tags,
        summary: 'Runs and ingested traces, newest first',
        querystring: traceListQuerySchema,
        response: { 200: z.object({ data: z.array(traceSummarySchema) }) },
      },
    },
    async (request) => ({ data: await service.listTraces(request, request.query) }),
  );
  app.get(
    '/traces/:traceId',
    {
      config: { permission: 'run:read' },
      schema: {
        tags,
        summary: 'A trace by id: its runs and the spans ingested over OTLP',
        params: traceIdParamsSchema,
        response: { 200: traceSchema },
      },
    },
    async (request) => service.traceById(request, request.params.traceId),
  );
};
