import { sql } from 'drizzle-orm';
import {
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
import { agents } from './agents.ts';
import { createdAt, id, jsonb, oneOf, tenantPolicy, tstz, updatedAt } from './columns.ts';
import { agentExecutions, workflowExecutions } from './executions.ts';
import { organizations } from './organizations.ts';
import { users } from './users.ts';
import { workflows } from './workflows.ts';

export const EVALUATOR_KINDS = ['rule', 'judge'] as const;
export type EvaluatorKind = (typeof EVALUATOR_KINDS)[number];

/**
 * Evaluators (issue 16): a rule (contains, regex, JSON Schema, numeric range, latency/cost/tokens ≤) or an
 * LLM-as-judge rubric, with a pass threshold on its 0–100 score. Versioned like agents: every save is a
 * new `evaluator_versions` row; results record the version that scored them.
 */
export const evaluators = pgTable(
  'evaluators',
  {
    id: id(),
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    name: varchar('name', { length: 255 }).notNull(),
    description: text('description'),
    kind: varchar('kind', { length: 10 }).$type<EvaluatorKind>().notNull(),
    config: jsonb('config').$type<Record<string, unknown>>().notNull(),
    threshold: numeric('threshold', { precision: 5, scale: 2 }).notNull(),
    version: integer('version').notNull().default(1),
    createdBy: uuid('created_by').references(() => users.id, { onDelete: 'set null' }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    deletedAt: tstz('deleted_at'),
  },
  (t) => [
    uniqueIndex('evaluators_org_name_key').on(t.organizationId, t.name).where(sql`${t.deletedAt} is null`),
    check('evaluators_kind_check', oneOf(t.kind, EVALUATOR_KINDS)),
    check('evaluators_threshold_check', sql`${t.threshold} >= 0 and ${t.threshold} <= 100`),
    tenantPolicy(t.organizationId),
  ],
);

/** Every saved version of an evaluator (the definition a result was scored with). */
export const evaluatorVersions = pgTable(
  'evaluator_versions',
  {
    id: id(),
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    evaluatorId: uuid('evaluator_id')
      .notNull()
      .references(() => evaluators.id, { onDelete: 'cascade' }),
    version: integer('version').notNull(),
    name: varchar('name', { length: 255 }).notNull(),
    kind: varchar('kind', { length: 10 }).$type<EvaluatorKind>().notNull(),
    config: jsonb('config').$type<Record<string, unknown>>().notNull(),
    threshold: numeric('threshold', { precision: 5, scale: 2 }).notNull(),
    createdBy: uuid('created_by').references(() => users.id, { onDelete: 'set null' }),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('evaluator_versions_key').on(t.evaluatorId, t.version), tenantPolicy(t.organizationId)],
);

/**
 * Online evaluation: an evaluator attached to a workflow (scores each finished run's output) or to an
 * agent (scores each of its attempts in finished runs), on a sampled share of runs.
 */
export const evaluatorAttachments = pgTable(
  'evaluator_attachments',
  {
    id: id(),
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    evaluatorId: uuid('evaluator_id')
      .notNull()
      .references(() => evaluators.id, { onDelete: 'cascade' }),
    workflowId: uuid('workflow_id').references(() => workflows.id, { onDelete: 'cascade' }),
    agentId: uuid('agent_id').references(() => agents.id, { onDelete: 'cascade' }),
    /** Share of runs evaluated, 0–1 (decided per run from its id, so a retry decides the same). */
    samplingRate: numeric('sampling_rate', { precision: 4, scale: 3 }).notNull().default('1'),
    createdBy: uuid('created_by').references(() => users.id, { onDelete: 'set null' }),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('evaluator_attachments_workflow_key')
      .on(t.evaluatorId, t.workflowId)
      .where(sql`${t.workflowId} is not null`),
    uniqueIndex('evaluator_attachments_agent_key')
      .on(t.evaluatorId, t.agentId)
      .where(sql`${t.agentId} is not null`),
    index('idx_evaluator_attachments_workflow').on(t.workflowId),
    index('idx_evaluator_attachments_agent').on(t.agentId),
    check('evaluator_attachments_target_check', sql`(${t.workflowId} is null) <> (${t.agentId} is null)`),
    check('evaluator_attachments_sampling_check', sql`${t.samplingRate} >= 0 and ${t.samplingRate} <= 1`),
    tenantPolicy(t.organizationId),
  ],
);

/** `manual`: a score a person gave (👍/👎 or 0–100 with a comment), recorded with the user (`created_by`). */
export const EVALUATION_SOURCES = ['online', 'on_demand', 'manual'] as const;
export type EvaluationSource = (typeof EVALUATION_SOURCES)[number];
/** What scored a result: an evaluator's kind, or `manual` (a person). */
export type EvaluationResultKind = EvaluatorKind | 'manual';

/**
 * Seed 000 `evaluation_results`: one score of one run (or one agent attempt of it) by one evaluator version,
 * or by a person (source and kind `manual`, evaluator version 0, `created_by` the user who scored).
 */
export const evaluationResults = pgTable(
  'evaluation_results',
  {
    id: id(),
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    workflowExecutionId: uuid('workflow_execution_id')
      .notNull()
      .references(() => workflowExecutions.id, { onDelete: 'cascade' }),
    agentExecutionId: uuid('agent_execution_id').references(() => agentExecutions.id, {
      onDelete: 'cascade',
    }),
    evaluatorId: uuid('evaluator_id').references(() => evaluators.id, { onDelete: 'set null' }),
    evaluatorName: varchar('evaluator_name', { length: 255 }).notNull(),
    evaluatorVersion: integer('evaluator_version').notNull(),
    kind: varchar('kind', { length: 10 }).$type<EvaluationResultKind>().notNull(),
    score: numeric('score', { precision: 5, scale: 2 }).notNull(),
    threshold: numeric('threshold', { precision: 5, scale: 2 }).notNull(),
    passed: boolean('passed').notNull(),
    details: jsonb('details').$type<Record<string, unknown>>().notNull().default({}),
    explanation: text('explanation'),
    costUsd: numeric('cost_usd', { precision: 14, scale: 6 }).notNull().default('0'),
    source: varchar('source', { length: 10 }).$type<EvaluationSource>().notNull(),
    createdBy: uuid('created_by').references(() => users.id, { onDelete: 'set null' }),
    createdAt: createdAt(),
  },
  (t) => [
    index('idx_evaluations_workflow_exec').on(t.workflowExecutionId),
    index('idx_evaluations_agent_exec').on(t.agentExecutionId),
    index('idx_evaluations_evaluator').on(t.organizationId, t.evaluatorName),
    check('evaluation_results_score_check', sql`${t.score} >= 0 and ${t.score} <= 100`),
    check('evaluation_results_source_check', oneOf(t.source, EVALUATION_SOURCES)),
    tenantPolicy(t.organizationId),
  ],
);

export const EVALUATION_JOB_STATUSES = ['pending', 'done', 'skipped', 'failed'] as const;

/**
 * The online-evaluation queue: one row per (evaluator, finished run[, agent attempt]), enqueued by the
 * evaluation loop after the run ended (never in the run's own transactions), claimed with a lease, retried
 * a few times, then `failed` with the error. The unique key makes enqueueing idempotent.
 */
export const evaluationJobs = pgTable(
  'evaluation_jobs',
  {
    id: id(),
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    evaluatorId: uuid('evaluator_id')
      .notNull()
      .references(() => evaluators.id, { onDelete: 'cascade' }),
    workflowExecutionId: uuid('workflow_execution_id')
      .notNull()
      .references(() => workflowExecutions.id, { onDelete: 'cascade' }),
    agentExecutionId: uuid('agent_execution_id').references(() => agentExecutions.id, {
      onDelete: 'cascade',
    }),
    status: varchar('status', { length: 10 }).notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    availableAt: tstz('available_at').notNull().defaultNow(),
    lastError: text('last_error'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('evaluation_jobs_key').on(
      t.evaluatorId,
      t.workflowExecutionId,
      sql`coalesce(${t.agentExecutionId}, '00000000-0000-0000-0000-000000000000'::uuid)`,
    ),
    index('idx_evaluation_jobs_due').on(t.availableAt).where(sql`${t.status} = 'pending'`),
    check('evaluation_jobs_status_check', oneOf(t.status, EVALUATION_JOB_STATUSES)),
    tenantPolicy(t.organizationId),
  ],
);
