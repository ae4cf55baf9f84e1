import { sql } from 'drizzle-orm';
import {
  bigint,
  check,
  doublePrecision,
  index,
  integer,
  numeric,
  pgTable,
  timestamp,
  uuid,
  varchar,
} from 'drizzle-orm/pg-core';
import { jsonb, tenantPolicy, tstz, updatedAt } from './columns.ts';
import { organizations } from './organizations.ts';

/*
 * Raw samples are read from the view `agent_metric_samples` (migration 0050): the samples of agent and tool
 * attempts, derived from their `agent_executions` rows, and the samples stored in `agent_metrics` (quality
 * scores). `agent_metrics` is declared in SQL (migration "agent_metrics"), not here: it is partitioned by
 * month (`agent_metrics_yYYYYmMM`), which drizzle-kit cannot express. Columns: organization_id, recorded_at,
 * agent_id, model, workflow_id, tool, workflow_execution_id, node_id, attempt, latency_ms, input_tokens,
 * output_tokens, tokens, cost, error, quality (NULL where not measured).
 */

/** Rollup columns shared by the hourly and daily tables: one row per bucket, metric and dimensions. */
const rollupColumns = () => ({
  organizationId: uuid('organization_id')
    .notNull()
    .references(() => organizations.id, { onDelete: 'cascade' }),
  /**
   * full: one row per agent, model, workflow and tool; agent: per agent (model, workflow, tool merged);
   * org: the whole organization. Queries read the coarsest grain their filters allow.
   */
  grain: varchar('grain', { length: 8 }).notNull().default('full'),
  /** Bucket start (UTC hour or day). */
  bucket: tstz('bucket').notNull(),
  /** latency | tokens | input_tokens | output_tokens | cost | error | quality */
  metric: varchar('metric', { length: 32 }).notNull(),
  agentId: uuid('agent_id'),
  model: varchar('model', { length: 255 }).notNull().default(''),
  workflowId: uuid('workflow_id'),
  tool: varchar('tool', { length: 100 }).notNull().default(''),
  count: bigint('count', { mode: 'number' }).notNull(),
  /** Exact sum of the samples (numeric, so merging in any order gives the same total). */
  sum: numeric('sum').notNull(),
  min: doublePrecision('min').notNull(),
  max: doublePrecision('max').notNull(),
  /**
   * Log-bucketed histogram `{ key: count }` (DDSketch-style, 2% relative accuracy; key "z" counts zeros):
   * mergeable by adding counts, so percentiles over any set of buckets come from the merged histogram.
   */
  hist: jsonb('hist').$type<Record<string, number>>().notNull(),
});

/** Hourly rollups of `agent_metrics` (closed hours, rebuilt by the `observability.rollup-agent-metrics` job). */
export const agentMetricsHourly = pgTable('agent_metrics_hourly', rollupColumns(), (t) => [
  index('idx_agent_metrics_hourly_query').on(t.organizationId, t.grain, t.agentId, t.metric, t.bucket),
  index('idx_agent_metrics_hourly_bucket').on(t.bucket),
  tenantPolicy(t.organizationId),
]);

/** Daily rollups, merged from the hourly rows of closed days. */
export const agentMetricsDaily = pgTable('agent_metrics_daily', rollupColumns(), (t) => [
  index('idx_agent_metrics_daily_query').on(t.organizationId, t.grain, t.agentId, t.metric, t.bucket),
  index('idx_agent_metrics_daily_bucket').on(t.bucket),
  tenantPolicy(t.organizationId),
]);

/**
 * How far the rollups reach (not tenant data; one row per rollup table): hours before `until` are in
 * `agent_metrics_hourly`, days before it in `agent_metrics_daily`; queries read raw samples after it.
 */
export const agentMetricRollupState = pgTable('agent_metric_rollup_state', {
  name: varchar('name', { length: 40 }).primaryKey(),
  until: timestamp('until', { withTimezone: true, mode: 'date' }).notNull(),
});

/** An organization's retention periods (defaults apply when it has no row). */
export const organizationRetention = pgTable(
  'organization_retention',
  {
    organizationId: uuid('organization_id')
      .primaryKey()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    logsDays: integer('logs_days').notNull(),
    metricsDays: integer('metrics_days').notNull(),
    executionsDays: integer('executions_days').notNull(),
    updatedBy: uuid('updated_by'),
    updatedAt: updatedAt(),
  },
  (t) => [
    check('organization_retention_logs_check', sql`${t.logsDays} between 1 and 3650`),
    check('organization_retention_metrics_check', sql`${t.metricsDays} between 1 and 3650`),
    check('organization_retention_executions_check', sql`${t.executionsDays} between 1 and 3650`),
    tenantPolicy(t.organizationId),
  ],
);
