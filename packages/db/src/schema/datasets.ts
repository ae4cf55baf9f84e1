import { sql } from 'drizzle-orm';
import {
  bigint,
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
import { workflowExecutions } from './executions.ts';
import { organizations } from './organizations.ts';
import { users } from './users.ts';
import { workflows } from './workflows.ts';

/**
 * Datasets (issue 16): items with an input, an expected output and metadata. Versioned without copies:
 * every change to the items bumps `version`; an item belongs to versions [added_in_version,
 * removed_in_version), so any past version's items can be listed and experiments name the version they ran.
 */
export const datasets = pgTable(
  'datasets',
  {
    id: id(),
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    name: varchar('name', { length: 255 }).notNull(),
    description: text('description'),
    version: integer('version').notNull().default(1),
    createdBy: uuid('created_by').references(() => users.id, { onDelete: 'set null' }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    deletedAt: tstz('deleted_at'),
  },
  (t) => [
    uniqueIndex('datasets_org_name_key').on(t.organizationId, t.name).where(sql`${t.deletedAt} is null`),
    tenantPolicy(t.organizationId),
  ],
);

export const datasetItems = pgTable(
  'dataset_items',
  {
    id: id(),
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    datasetId: uuid('dataset_id')
      .notNull()
      .references(() => datasets.id, { onDelete: 'cascade' }),
    /** Insertion order (items added in one call share their created_at). */
    seq: bigint('seq', { mode: 'number' }).generatedAlwaysAsIdentity(),
    input: jsonb('input').$type<unknown>().notNull(),
    expectedOutput: jsonb('expected_output').$type<unknown>(),
    metadata: jsonb('metadata').$type<Record<string, unknown>>().notNull().default({}),
    /** The production run the item was taken from (add-from-run). */
    sourceRunId: uuid('source_run_id').references(() => workflowExecutions.id, { onDelete: 'set null' }),
    addedInVersion: integer('added_in_version').notNull(),
    removedInVersion: integer('removed_in_version'),
    createdBy: uuid('created_by').references(() => users.id, { onDelete: 'set null' }),
    createdAt: createdAt(),
  },
  (t) => [
    index('idx_dataset_items_dataset').on(t.datasetId, t.addedInVersion),
    tenantPolicy(t.organizationId),
  ],
);

export const EXPERIMENT_STATUSES = ['running', 'completed', 'cancelled'] as const;
export type ExperimentStatus = (typeof EXPERIMENT_STATUSES)[number];

/**
 * An experiment: one workflow version run over one dataset version, each item scored by a snapshot of
 * the chosen evaluators. Its items are engine runs (idempotency key per item), so it is as durable as
 * runs are; the worker's experiment loop starts items up to `parallelism` and scores finished ones.
 */
export const experiments = pgTable(
  'experiments',
  {
    id: id(),
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    name: varchar('name', { length: 255 }).notNull(),
    datasetId: uuid('dataset_id')
      .notNull()
      .references(() => datasets.id, { onDelete: 'cascade' }),
    datasetVersion: integer('dataset_version').notNull(),
    workflowId: uuid('workflow_id')
      .notNull()
      .references(() => workflows.id, { onDelete: 'cascade' }),
    workflowVersion: integer('workflow_version').notNull(),
    /**
     * Set when the experiment measures an agent version alone: each item runs the one-step workflow
     * above (workflowId/workflowVersion), whose only node calls this agent version.
     */
    agentId: uuid('agent_id').references(() => agents.id, { onDelete: 'cascade' }),
    agentVersion: integer('agent_version'),
    /** The evaluator versions used (definitions copied at start). */
    evaluators: jsonb('evaluators').$type<Record<string, unknown>[]>().notNull(),
    parallelism: integer('parallelism').notNull().default(4),
    status: varchar('status', { length: 10 }).$type<ExperimentStatus>().notNull().default('running'),
    /** 'manual' or 'promotion' (started by a promotion gate). */
    purpose: varchar('purpose', { length: 10 }).notNull().default('manual'),
    totalItems: integer('total_items').notNull(),
    doneItems: integer('done_items').notNull().default(0),
    /** Aggregates per evaluator and totals, written when the experiment completes. */
    summary: jsonb('summary').$type<Record<string, unknown>>(),
    /** The experiment loop's lease: one process advances an experiment at a time. */
    leaseUntil: tstz('lease_until').notNull().defaultNow(),
    createdBy: uuid('created_by').references(() => users.id, { onDelete: 'set null' }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    completedAt: tstz('completed_at'),
  },
  (t) => [
    check('experiments_status_check', oneOf(t.status, EXPERIMENT_STATUSES)),
    check('experiments_parallelism_check', sql`${t.parallelism} between 1 and 32`),
    index('idx_experiments_org').on(t.organizationId, t.createdAt),
    index('idx_experiments_workflow').on(t.workflowId, t.workflowVersion),
    index('idx_experiments_agent').on(t.agentId, t.agentVersion).where(sql`${t.agentId} is not null`),
    check('experiments_agent_check', sql`(${t.agentId} is null) = (${t.agentVersion} is null)`),
    index('idx_experiments_due').on(t.leaseUntil).where(sql`${t.status} = 'running'`),
    tenantPolicy(t.organizationId),
  ],
);

export const EXPERIMENT_ITEM_STATUSES = ['pending', 'running', 'scored'] as const;

export const experimentItems = pgTable(
  'experiment_items',
  {
    id: id(),
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    experimentId: uuid('experiment_id')
      .notNull()
      .references(() => experiments.id, { onDelete: 'cascade' }),
    datasetItemId: uuid('dataset_item_id')
      .notNull()
      .references(() => datasetItems.id, { onDelete: 'cascade' }),
    position: integer('position').notNull(),
    runId: uuid('run_id').references(() => workflowExecutions.id, { onDelete: 'set null' }),
    status: varchar('status', { length: 10 }).notNull().default('pending'),
    runStatus: varchar('run_status', { length: 20 }),
    output: jsonb('output').$type<unknown>(),
    /** One entry per evaluator: {evaluatorId, name, version, score, passed, explanation}. */
    scores: jsonb('scores').$type<Record<string, unknown>[]>().notNull().default([]),
    latencyMs: integer('latency_ms'),
    costUsd: numeric('cost_usd', { precision: 14, scale: 6 }).notNull().default('0'),
    tokens: integer('tokens').notNull().default(0),
    error: text('error'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('experiment_items_key').on(t.experimentId, t.datasetItemId),
    index('idx_experiment_items_status').on(t.experimentId, t.status),
    check('experiment_items_status_check', oneOf(t.status, EXPERIMENT_ITEM_STATUSES)),
    tenantPolicy(t.organizationId),
  ],
);
