import { sql } from 'drizzle-orm';
import {
  check,
  index,
  integer,
  numeric,
  pgTable,
  primaryKey,
  text,
  uuid,
  varchar,
} from 'drizzle-orm/pg-core';
import { jsonb, oneOf, tenantPolicy, tstz } from './columns.ts';

export const LOG_LEVELS = ['debug', 'info', 'warning', 'error', 'critical'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * Execution log lines (seed 000 `execution_logs`): written by the engine with each step's completion
 * (one statement with the outcome), and by nodes and tools. Declaratively partitioned by month on
 * `created_at` (migration: `PARTITION BY RANGE`, partitions `execution_logs_yYYYYmMM`, made by
 * `aiops_ensure_partitions`). No primary key: a partitioned table's keys must hold the partition column,
 * and lines are read by run and time; `(workflow_execution_id, created_at, id)` orders the cursor.
 */
export const executionLogs = pgTable(
  'execution_logs',
  {
    id: uuid('id').notNull().defaultRandom(),
    organizationId: uuid('organization_id').notNull(),
    workflowExecutionId: uuid('workflow_execution_id'),
    runStepId: uuid('run_step_id'),
    attempt: integer('attempt'),
    nodeId: varchar('node_id', { length: 100 }),
    level: varchar('level', { length: 10 }).notNull().default('info'),
    message: text('message').notNull(),
    context: jsonb('context').notNull().default({}),
    traceId: varchar('trace_id', { length: 32 }),
    spanId: varchar('span_id', { length: 16 }),
    parentSpanId: varchar('parent_span_id', { length: 16 }),
    source: varchar('source', { length: 100 }).notNull().default('engine'),
    createdAt: tstz('created_at').notNull().defaultNow(),
  },
  (t) => [
    index('idx_execution_logs_run').on(t.workflowExecutionId, t.createdAt, t.id),
    check('execution_logs_level_check', oneOf(t.level, LOG_LEVELS)),
    tenantPolicy(t.organizationId),
  ],
).enableRLS();

export const SPAN_STATUSES = ['unset', 'ok', 'error'] as const;

/**
 * Spans of traces (W3C ids: 32-hex trace, 16-hex span): the engine's (a run's steps, model calls, tool
 * and MCP calls; the run's own span is its `workflow_executions` row) and spans ingested over OTLP.
 * Partitioned by month on `start_time` (`spans_yYYYYmMM`). The key holds the organization, so two
 * organizations' ids never collide, and the partition column, as PostgreSQL requires; a re-sent span
 * is ignored.
 */
export const spans = pgTable(
  'spans',
  {
    organizationId: uuid('organization_id').notNull(),
    traceId: varchar('trace_id', { length: 32 }).notNull(),
    spanId: varchar('span_id', { length: 16 }).notNull(),
    parentSpanId: varchar('parent_span_id', { length: 16 }),
    name: varchar('name', { length: 500 }).notNull(),
    /** run, step, model, tool, mcp, subworkflow (engine) or the OTel span kind (ingested). */
    kind: varchar('kind', { length: 20 }).notNull(),
    status: varchar('status', { length: 10 }).notNull().default('unset'),
    statusMessage: text('status_message'),
    startTime: tstz('start_time').notNull(),
    endTime: tstz('end_time'),
    durationMs: numeric('duration_ms', { precision: 14, scale: 3 }),
    /** engine or otlp. */
    source: varchar('source', { length: 10 }).notNull().default('engine'),
    serviceName: varchar('service_name', { length: 255 }),
    workflowExecutionId: uuid('workflow_execution_id'),
    runStepId: uuid('run_step_id'),
    attempt: integer('attempt'),
    nodeId: varchar('node_id', { length: 100 }),
    model: varchar('model', { length: 255 }),
    inputTokens: integer('input_tokens'),
    outputTokens: integer('output_tokens'),
    totalTokens: integer('total_tokens'),
    /** USD, from our price catalog. */
    cost: numeric('cost', { precision: 20, scale: 12 }),
    input: jsonb('input'),
    output: jsonb('output'),
    attributes: jsonb('attributes').notNull().default({}),
    events: jsonb('events'),
    links: jsonb('links'),
    resource: jsonb('resource'),
  },
  (t) => [
    primaryKey({ columns: [t.organizationId, t.traceId, t.spanId, t.startTime] }),
    index('idx_spans_roots').on(t.organizationId, t.startTime.desc()).where(sql`${t.parentSpanId} IS NULL`),
    check('spans_status_check', oneOf(t.status, SPAN_STATUSES)),
    tenantPolicy(t.organizationId),
  ],
).enableRLS();

export type ExecutionLog = typeof executionLogs.$inferSelect;
export type Span = typeof spans.$inferSelect;
