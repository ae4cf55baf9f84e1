import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  check,
  index,
  integer,
  numeric,
  pgTable,
  text,
  uniqueIndex,
  uuid,
  varchar,
} from 'drizzle-orm/pg-core';
import { apiKeys } from './api-keys.ts';
import { createdAt, id, jsonb, oneOf, tenantPolicy, tstz, updatedAt } from './columns.ts';
import { organizations } from './organizations.ts';
import { users } from './users.ts';
import { workflows } from './workflows.ts';

export const RUN_STATUSES = [
  'queued',
  'pending',
  'running',
  'paused',
  'completed',
  'failed',
  'cancelled',
  'timeout',
] as const;
export const TRIGGER_KINDS = ['manual', 'schedule', 'webhook', 'api', 'internal', 'event'] as const;
export type TriggerKind = (typeof TRIGGER_KINDS)[number];
export const STEP_STATUSES = [
  'pending',
  'ready',
  'running',
  'waiting',
  'completed',
  'failed',
  'skipped',
  'cancelled',
] as const;
export const ATTEMPT_STATUSES = ['running', 'completed', 'failed', 'cancelled'] as const;

/** Which agent version each agent node of a run uses, fixed when the run starts. */
export type AgentPins = Record<string, { agentId: string; versionNumber: number }>;

/**
 * A run of a workflow (seed 000 workflow_executions + seed 002's state machine, retries, correlation
 * and parent ids + seed 003's workflow_runs). Pinned to the workflow version it started on.
 */
export const workflowExecutions = pgTable(
  'workflow_executions',
  {
    id: id(),
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    workflowId: uuid('workflow_id')
      .notNull()
      .references(() => workflows.id, { onDelete: 'cascade' }),
    workflowVersion: integer('workflow_version').notNull(),
    status: varchar('status', { length: 20 }).notNull().default('queued'),
    statusReason: text('status_reason'),
    errorCode: varchar('error_code', { length: 50 }),
    errorMessage: text('error_message'),
    triggeredBy: varchar('triggered_by', { length: 20 }).$type<TriggerKind>().notNull().default('manual'),
    triggeredByUserId: uuid('triggered_by_user_id').references(() => users.id, { onDelete: 'set null' }),
    triggeredByApiKeyId: uuid('triggered_by_api_key_id').references(() => apiKeys.id, {
      onDelete: 'set null',
    }),
    externalTriggerId: varchar('external_trigger_id', { length: 255 }),
    inputData: jsonb('input_data').$type<unknown>().notNull().default({}),
    outputData: jsonb('output_data').$type<unknown>(),
    agentPins: jsonb('agent_pins').$type<AgentPins>().notNull().default({}),
    /** Nodes not yet completed or skipped; the run completes when it reaches 0. */
    remainingNodes: integer('remaining_nodes').notNull(),
    stepsTotal: integer('steps_total').notNull(),
    stepsCompleted: integer('steps_completed').notNull().default(0),
    startedAt: tstz('started_at'),
    completedAt: tstz('completed_at'),
    pausedAt: tstz('paused_at'),
    resumedAt: tstz('resumed_at'),
    timeoutAt: tstz('timeout_at'),
    durationMs: integer('duration_ms'),
    inputTokens: bigint('input_tokens', { mode: 'number' }).notNull().default(0),
    outputTokens: bigint('output_tokens', { mode: 'number' }).notNull().default(0),
    totalTokensUsed: bigint('total_tokens_used', { mode: 'number' }).notNull().default(0),
    estimatedCost: numeric('estimated_cost', { precision: 14, scale: 6 }).notNull().default('0'),
    retryCount: integer('retry_count').notNull().default(0),
    maxRetries: integer('max_retries').notNull().default(3),
    correlationId: uuid('correlation_id').notNull(),
    parentExecutionId: uuid('parent_execution_id'),
    /** The sub-workflow node of the parent run that started this run. */
    parentStepId: uuid('parent_step_id'),
    /** The run this one re-runs from a step (`POST /runs/:id/rerun`). */
    rerunOfExecutionId: uuid('rerun_of_execution_id'),
    /** Runs sharing a key run one at a time (the workflow's concurrency key, e.g. a customer id). */
    concurrencyKey: varchar('concurrency_key', { length: 255 }),
    idempotencyKey: varchar('idempotency_key', { length: 255 }),
    resourceUsage: jsonb('resource_usage').$type<Record<string, unknown>>(),
    performanceMetrics: jsonb('performance_metrics').$type<Record<string, unknown>>(),
    metadata: jsonb('metadata').$type<Record<string, unknown>>().notNull().default({}),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    index('idx_executions_org_created').on(t.organizationId, t.createdAt.desc()),
    index('idx_executions_workflow').on(t.workflowId, t.createdAt.desc()),
    // Every status change rewrites each index entry of the run (a status is in partial-index predicates, so
    // no update is HOT): no index on status or started_at alone (no query needs them), and the parent index
    // holds only sub-runs.
    index('idx_executions_correlation').on(t.correlationId),
    index('idx_executions_parent').on(t.parentExecutionId).where(sql`${t.parentExecutionId} is not null`),
    index('idx_executions_queued').on(t.workflowId, t.createdAt).where(sql`${t.status} = 'queued'`),
    index('idx_executions_active_key')
      .on(t.workflowId, t.concurrencyKey)
      .where(sql`${t.status} in ('pending', 'running', 'paused')`),
    index('idx_executions_timeout')
      .on(t.timeoutAt)
      .where(sql`${t.status} in ('queued', 'pending', 'running', 'paused')`),
    uniqueIndex('workflow_executions_idempotency_key').on(t.organizationId, t.idempotencyKey),
    check('workflow_executions_status_check', oneOf(t.status, RUN_STATUSES)),
    check('workflow_executions_triggered_by_check', oneOf(t.triggeredBy, TRIGGER_KINDS)),
    tenantPolicy(t.organizationId),
  ],
);

/**
 * The state of each node in a run, and the engine's queue: a `ready` row whose `available_at` has come
 * is claimed by a worker (FOR UPDATE SKIP LOCKED) and becomes `running` under a lease that heartbeats
 * renew. `pending_inputs` counts incoming connections not yet decided; `live_inputs` those that fired.
 */
export const runSteps = pgTable(
  'run_steps',
  {
    id: id(),
    // No foreign key to organizations: the run's (below) already ties the row to its organization and
    // deletes it with the run; a second key check per step row contended on the organization's row.
    organizationId: uuid('organization_id').notNull(),
    runId: uuid('run_id')
      .notNull()
      .references(() => workflowExecutions.id, { onDelete: 'cascade' }),
    nodeId: varchar('node_id', { length: 64 }).notNull(),
    status: varchar('status', { length: 20 }).notNull(),
    pendingInputs: integer('pending_inputs').notNull(),
    liveInputs: integer('live_inputs').notNull().default(0),
    /** Executions started (1-based once claimed). */
    attempt: integer('attempt').notNull().default(0),
    /** Attempts that failed with an error (lost leases do not count). */
    failures: integer('failures').notNull().default(0),
    availableAt: tstz('available_at').notNull().defaultNow(),
    leaseOwner: varchar('lease_owner', { length: 100 }),
    leaseExpiresAt: tstz('lease_expires_at'),
    startedAt: tstz('started_at'),
    completedAt: tstz('completed_at'),
    output: jsonb('output').$type<unknown>(),
    error: jsonb('error').$type<Record<string, unknown>>(),
    /**
     * What a waiting step waits for, and how the wait ended: an approval decision, a sub-run's result, a
     * delay's due time; or, before a step runs, an input override (re-run with edited input).
     */
    wait: jsonb('wait').$type<Record<string, unknown>>(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('run_steps_run_node_key').on(t.runId, t.nodeId),
    index('idx_run_steps_waiting').on(t.availableAt).where(sql`${t.status} = 'waiting'`),
    index('idx_run_steps_ready').on(t.availableAt).where(sql`${t.status} = 'ready'`),
    index('idx_run_steps_leases').on(t.leaseExpiresAt).where(sql`${t.status} = 'running'`),
    check('run_steps_status_check', oneOf(t.status, STEP_STATUSES)),
    tenantPolicy(t.organizationId),
  ],
);

/**
 * One row per step attempt (seed 000 agent_executions): input, output, timing, tokens, cost, error and
 * attempt number.
 */
export const agentExecutions = pgTable(
  'agent_executions',
  {
    id: id(),
    // No foreign key to organizations, as for run_steps: the run's key covers it.
    organizationId: uuid('organization_id').notNull(),
    workflowExecutionId: uuid('workflow_execution_id')
      .notNull()
      .references(() => workflowExecutions.id, { onDelete: 'cascade' }),
    nodeId: varchar('node_id', { length: 64 }).notNull(),
    nodeType: varchar('node_type', { length: 20 }).notNull(),
    agentId: uuid('agent_id'),
    agentVersion: integer('agent_version'),
    attempt: integer('attempt').notNull(),
    status: varchar('status', { length: 20 }).notNull(),
    statusReason: text('status_reason'),
    input: jsonb('input').$type<unknown>().notNull().default({}),
    output: jsonb('output').$type<unknown>(),
    model: varchar('model', { length: 255 }),
    queuedAt: tstz('queued_at'),
    startedAt: tstz('started_at'),
    completedAt: tstz('completed_at'),
    durationMs: integer('duration_ms'),
    inputTokens: integer('input_tokens').notNull().default(0),
    outputTokens: integer('output_tokens').notNull().default(0),
    cachedInputTokens: integer('cached_input_tokens').notNull().default(0),
    reasoningTokens: integer('reasoning_tokens').notNull().default(0),
    totalTokens: integer('total_tokens').notNull().default(0),
    tokensEstimated: boolean('tokens_estimated').notNull().default(false),
    estimatedCost: numeric('estimated_cost', { precision: 14, scale: 6 }).notNull().default('0'),
    cached: boolean('cached').notNull().default(false),
    traceData: jsonb('trace_data').$type<Record<string, unknown>>().notNull().default({}),
    errorDetails: jsonb('error_details').$type<Record<string, unknown>>(),
    retryCount: integer('retry_count').notNull().default(0),
    workerId: varchar('worker_id', { length: 100 }),
    parentAgentExecutionId: uuid('parent_agent_execution_id'),
    createdAt: createdAt(),
  },
  (t) => [
    index('idx_agent_executions_run').on(t.workflowExecutionId, t.nodeId, t.attempt),
    // An agent's attempts newest first (agent-scoped alert rules read the last N, or a trailing window).
    index('idx_agent_executions_agent')
      .on(t.agentId, t.completedAt.desc())
      .where(sql`${t.agentId} is not null`),
    // Agent metric samples are derived from attempt rows (view agent_metric_samples, migration 0050): the
    // rollup job and metric queries read them by time; rows arrive in time order, so BRIN costs almost nothing.
    index('idx_agent_executions_created').using('brin', t.createdAt),
    check('agent_executions_status_check', oneOf(t.status, ATTEMPT_STATUSES)),
    tenantPolicy(t.organizationId),
  ],
);
