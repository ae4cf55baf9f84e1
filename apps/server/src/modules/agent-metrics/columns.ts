import { AGENT_METRICS, type AgentMetric } from '@aiops/contracts';
import { sql } from 'drizzle-orm';

/** The `agent_metric_samples` column of each metric (raw samples are wide: one per attempt). */
export const METRIC_COLUMN: Record<AgentMetric, string> = {
  latency: 'latency_ms',
  tokens: 'tokens',
  input_tokens: 'input_tokens',
  output_tokens: 'output_tokens',
  cost: 'cost',
  error: 'error',
  quality: 'quality',
};

/** `(metric, value numeric)` pairs of a raw row `m`, for `CROSS JOIN LATERAL (VALUES …)`. */
export const UNPIVOT = sql.raw(
  AGENT_METRICS.map((m) => `('${m}', m.${METRIC_COLUMN[m]}::numeric)`).join(', '),
);
