import { agentMetricsQuerySchema, agentMetricsSchema } from '@aiops/contracts';
import { authOf } from '../../http/auth.ts';
import { tenant } from '../../http/tenant.ts';
import type { AppModule } from '../../module.ts';
import { queryAgentMetrics } from './service.ts';

/** Agent metrics (issue 14): latency, tokens, cost, error rate and quality per agent attempt, over time. */
export const agentMetricsModule: AppModule = () => async (app) => {
  app.get(
    '/metrics/agents',
    {
      config: { permission: 'agent:read' },
      schema: {
        tags: ['metrics'],
        summary:
          'One agent metric over a window: count, sum, avg, min, max, p50/p95/p99 and per-minute rates, in total and per hour or day',
        querystring: agentMetricsQuerySchema,
        response: { 200: agentMetricsSchema },
      },
    },
    async (request) =>
      tenant(request, (tx) => queryAgentMetrics(tx, authOf(request).organizationId, request.query)),
  );
};
