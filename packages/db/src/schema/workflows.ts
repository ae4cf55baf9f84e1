import { sql } from 'drizzle-orm';
import {
  check,
  doublePrecision,
  index,
  integer,
  numeric,
  pgTable,
  text,
  uniqueIndex,
  uuid,
  varchar,
} from 'drizzle-orm/pg-core';
import { createdAt, id, jsonb, oneOf, tenantPolicy, tstz, updatedAt } from './columns.ts';
import { organizations } from './organizations.ts';
import { users } from './users.ts';

export const WORKFLOW_STATUSES = ['draft', 'active', 'paused', 'archived'] as const;
export type WorkflowStatus = (typeof WORKFLOW_STATUSES)[number];

/**
 * A workflow (seed 000 + seed 001 run counters + seed 002 type). `definition` and `version` are the
 * current version's; every save of the definition creates an immutable `workflow_versions` row.
 */
export const workflows = pgTable(
  'workflows',
  {
    id: id(),
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    name: varchar('name', { length: 255 }).notNull(),
    description: text('description'),
    version: integer('version').notNull().default(1),
    status: varchar('status', { length: 20 }).$type<WorkflowStatus>().notNull().default('draft'),
    definition: jsonb('definition').$type<Record<string, unknown>>().notNull(),
    workflowType: varchar('workflow_type', { length: 20 }).notNull().default('visual'),
    /** Whole-run timeout in seconds (seed 000). */
    executionTimeout: integer('execution_timeout').notNull().default(3600),
    maxRetries: integer('max_retries').notNull().default(3),
    /** Runs of this workflow active at once (seed 000); null: no limit. */
    maxConcurrentExecutions: integer('max_concurrent_executions'),
    /** What happens to a run over the limit: `queue` (waits its turn) or `reject` (429). */
    concurrencyPolicy: varchar('concurrency_policy', { length: 10 }).notNull().default('queue'),
    /** Template of the run input whose value serializes runs (one at a time per key), e.g. `{{input.customerId}}`. */
    concurrencyKey: text('concurrency_key'),
    errorHandling: jsonb('error_handling').$type<Record<string, unknown>>().notNull().default({}),
    totalExecutions: integer('total_executions').notNull().default(0),
    successfulExecutions: integer('successful_executions').notNull().default(0),
    failedExecutions: integer('failed_executions').notNull().default(0),
    /** Mean duration of finished runs, milliseconds. */
    averageDuration: doublePrecision('average_duration'),
    averageCost: numeric('average_cost', { precision: 14, scale: 6 }),
    lastRunAt: tstz('last_run_at'),
    lastRunStatus: varchar('last_run_status', { length: 20 }),
    createdBy: uuid('created_by').references(() => users.id, { onDelete: 'set null' }),
    updatedBy: uuid('updated_by').references(() => users.id, { onDelete: 'set null' }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    deletedAt: tstz('deleted_at'),
  },
  (t) => [
    uniqueIndex('workflows_org_name_key').on(t.organizationId, t.name).where(sql`${t.deletedAt} is null`),
    index('idx_workflows_org_created').on(t.organizationId, t.createdAt.desc()),
    index('idx_workflows_status').on(t.status),
    index('idx_workflows_name_trgm').using('gin', sql`${t.name} gin_trgm_ops`),
    check('workflows_status_check', oneOf(t.status, WORKFLOW_STATUSES)),
    check('workflows_type_check', sql`${t.workflowType} in ('visual', 'code')`),
    check('workflows_timeout_check', sql`${t.executionTimeout} > 0`),
    check('workflows_concurrency_policy_check', sql`${t.concurrencyPolicy} in ('queue', 'reject')`),
    check(
      'workflows_max_concurrent_check',
      sql`${t.maxConcurrentExecutions} is null or ${t.maxConcurrentExecutions} > 0`,
    ),
    tenantPolicy(t.organizationId),
  ],
);

/** One immutable version of a workflow definition. */
export const workflowVersions = pgTable(
  'workflow_versions',
  {
    id: id(),
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    workflowId: uuid('workflow_id')
      .notNull()
      .references(() => workflows.id, { onDelete: 'cascade' }),
    version: integer('version').notNull(),
    name: varchar('name', { length: 255 }).notNull(),
    description: text('description'),
    definition: jsonb('definition').$type<Record<string, unknown>>().notNull(),
    /**
     * The definition's graph as the engine's SQL functions need it: successors of each node, and the
     * nodes whose outputs make the run's output. Derived from `definition` when the version is saved.
     */
    graph: jsonb('graph')
      .$type<{ out: Record<string, string[]>; result: string[] }>()
      .notNull()
      .default({ out: {}, result: [] }),
    changeNote: text('change_note'),
    createdBy: uuid('created_by').references(() => users.id, { onDelete: 'set null' }),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('workflow_versions_workflow_version_key').on(t.workflowId, t.version),
    index('idx_workflow_versions_org').on(t.organizationId),
    tenantPolicy(t.organizationId),
  ],
);
