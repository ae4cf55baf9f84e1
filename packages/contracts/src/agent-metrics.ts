import { z } from 'zod';

/** The agent metrics recorded per agent or tool attempt (and `quality`, per evaluated attempt). */
export const AGENT_METRICS = [
  'latency',
  'tokens',
  'input_tokens',
  'output_tokens',
  'cost',
  'error',
  'quality',
] as const;
export type AgentMetric = (typeof AGENT_METRICS)[number];

/** Unit of each metric's values. */
export const AGENT_METRIC_UNITS: Record<AgentMetric, string> = {
  latency: 'ms',
  tokens: 'tokens',
  input_tokens: 'tokens',
  output_tokens: 'tokens',
  cost: 'usd',
  error: 'ratio',
  quality: 'score',
};

/** GET /metrics/agents: one metric of the organization's agents (or one agent), in total and per bucket. */
export const agentMetricsQuerySchema = z.object({
  agentId: z.uuid().optional().describe('one agent (default: every agent and tool step of the organization)'),
  metric: z.enum(AGENT_METRICS).default('latency'),
  from: z.iso.datetime({ offset: true }).describe('window start, rounded down to the interval (UTC)'),
  to: z.iso
    .datetime({ offset: true })
    .optional()
    .describe('window end, rounded up to the interval (UTC); default now'),
  interval: z
    .enum(['hour', 'day'])
    .optional()
    .describe('bucket size; default hour for windows up to 2 days, else day; hour allows up to 31 days'),
  model: z.string().min(1).max(255).optional(),
  workflowId: z.uuid().optional(),
  tool: z.string().min(1).max(100).optional(),
});
export type AgentMetricsQuery = z.infer<typeof agentMetricsQuerySchema>;

const stats = {
  count: z.number().int().describe('samples (attempts)'),
  sum: z.number(),
  avg: z.number().nullable().describe('for error: the error rate'),
  min: z.number().nullable(),
  max: z.number().nullable(),
  p50: z.number().nullable().describe('from the merged log histogram: within 2% of the true value'),
  p95: z.number().nullable(),
  p99: z.number().nullable(),
  countPerMinute: z.number().describe('attempts per minute over the bucket'),
  sumPerMinute: z.number().describe('sum per minute (tokens/min, USD/min, errors/min)'),
};
export type AgentMetricStats = z.infer<z.ZodObject<typeof stats>>;

export const agentMetricsSchema = z
  .object({
    metric: z.enum(AGENT_METRICS),
    unit: z.string(),
    agentId: z.string().nullable(),
    from: z.string(),
    to: z.string(),
    interval: z.enum(['hour', 'day']),
    totals: z.object(stats),
    series: z.array(z.object({ at: z.string().describe('bucket start, ISO 8601 UTC'), ...stats })),
    rollups: z.object({
      hourlyUntil: z.string().nullable().describe('hours before this come from the hourly rollups'),
      dailyUntil: z.string().nullable().describe('days before this come from the daily rollups'),
    }),
  })
  .meta({ id: 'AgentMetrics' });
export type AgentMetrics = z.infer<typeof agentMetricsSchema>;

const days = z.number().int().min(1).max(3650);

/** An organization's retention periods in days (seed defaults: logs 90, metrics 730, executions 365). */
export const retentionSettingsSchema = z
  .object({
    logsDays: days.describe('execution logs, spans and raw agent metric samples'),
    metricsDays: days.describe('hourly and daily agent metric rollups'),
    executionsDays: days.describe('finished runs with their steps and attempts'),
    defaults: z.object({ logsDays: days, metricsDays: days, executionsDays: days }),
    custom: z.boolean().describe('false: the defaults apply'),
    updatedAt: z.string().nullable(),
  })
  .meta({ id: 'RetentionSettings' });
export type RetentionSettings = z.infer<typeof retentionSettingsSchema>;

export const updateRetentionBodySchema = z
  .object({ logsDays: days, metricsDays: days, executionsDays: days })
  .partial()
  .strict()
  .refine((b) => Object.keys(b).length > 0, 'give at least one of logsDays, metricsDays, executionsDays');
export type UpdateRetentionBody = z.infer<typeof updateRetentionBodySchema>;
