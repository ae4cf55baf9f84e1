import { analyticsOverviewQuerySchema, analyticsOverviewSchema } from '@aiops/contracts';
import type { AppModule } from '../../module.ts';
import { overview } from './service.ts';

/** Analytics for the studio's overview: run counts, success rate, p95 duration, tokens and cost. */
export const analyticsModule: AppModule = () => async (app) => {
  app.get(
    '/analytics/overview',
    {
      config: { permission: 'run:read' },
      schema: {
        tags: ['analytics'],
        summary:
          'Runs, success rate, p95 duration, tokens and cost of a window, in total and per hour or day',
        querystring: analyticsOverviewQuerySchema,
        response: { 200: analyticsOverviewSchema },
      },
    },
    async (request) => overview(request, request.query),
  );
};
