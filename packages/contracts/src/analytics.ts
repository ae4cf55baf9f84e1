import { z } from 'zod';

/** GET /analytics/overview: run figures of a time window, in total and per hour or day (UTC). */
export const analyticsOverviewQuerySchema = z.object({
  from: z.iso.datetime({ offset: true }).describe('window start (runs created at or after)'),
  to: z.iso.datetime({ offset: true }).optional().describe('window end (created before); default now'),
  bucket: z.enum(['hour', 'day']).default('day'),
  workflowId: z.uuid().optional(),
});

const figures = {
  runs: z.number().int(),
  completed: z.number().int(),
  failed: z.number().int().describe('failed or timed out'),
  finished: z.number().int().describe('completed, failed, timed out or cancelled'),
  p95DurationMs: z.number().nullable().describe('95th percentile duration of finished runs'),
  tokens: z.number(),
  cost: z.number().describe('estimated USD'),
};

export const analyticsOverviewSchema = z
  .object({
    from: z.string(),
    to: z.string(),
    bucket: z.enum(['hour', 'day']),
    totals: z.object({ ...figures, successRate: z.number().nullable().describe('completed / finished') }),
    series: z.array(z.object({ at: z.string().describe('bucket start, ISO 8601 UTC'), ...figures })),
  })
  .meta({ id: 'AnalyticsOverview' });
export type AnalyticsOverview = z.infer<typeof analyticsOverviewSchema>;
