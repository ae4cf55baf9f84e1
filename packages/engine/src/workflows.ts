import type { DefinitionIssue, WorkflowDefinition } from '@aiops/contracts';
import { AppError, conflict, notFound, parseDefinition } from '@aiops/core';
import { type Tx, type WorkflowStatus, workflows, workflowVersions } from '@aiops/db';
import { and, desc, eq, isNull } from 'drizzle-orm';
import { referenceIssues } from './references.ts';

export type WorkflowRow = typeof workflows.$inferSelect;
export type WorkflowVersionRow = typeof workflowVersions.$inferSelect;

/** A definition that failed validation: 400 with every issue (node id and field). */
export function invalidDefinition(issues: DefinitionIssue[]): AppError {
  const summary = issues
    .slice(0, 5)
    .map((i) => `${i.path}: ${i.message}`)
    .join('; ');
  return new AppError(
    400,
    'invalid_definition',
    `The workflow definition is invalid: ${summary}${issues.length > 5 ? '; …' : ''}`,
    {
      details: { issues },
    },
  );
}

/** Successors of each node and the result nodes, stored with each version for the engine's SQL. */
export function graphOf(definition: WorkflowDefinition): { out: Record<string, string[]>; result: string[] } {
  const out: Record<string, string[]> = Object.fromEntries(
    definition.nodes.map((n) => [n.id, [] as string[]]),
  );
  for (const c of definition.connections) out[c.from]?.push(c.to);
  const outputs = definition.nodes.filter((n) => n.type === 'output').map((n) => n.id);
  return {
    out,
    result: outputs.length ? outputs : definition.nodes.filter((n) => !out[n.id]?.length).map((n) => n.id),
  };
}

/** Concurrency settings of a definition, as the workflow row keeps them for the engine's SQL. */
function concurrencyColumns(definition: WorkflowDefinition) {
  return {
    maxConcurrentExecutions: definition.settings?.maxConcurrentRuns ?? null,
    concurrencyPolicy: definition.settings?.concurrencyPolicy ?? 'queue',
    concurrencyKey: definition.settings?.concurrencyKey ?? null,
  };
}

/** Agents and sub-workflows of other organizations (or deleted ones) are refused when saved. */
async function checkReferences(tx: Tx, definition: WorkflowDefinition): Promise<void> {
  const issues = await referenceIssues(tx, definition);
  if (issues.length) throw invalidDefinition(issues);
}

export function checkDefinition(raw: unknown): WorkflowDefinition {
  const parsed = parseDefinition(raw);
  if (!parsed.ok) throw invalidDefinition(parsed.issues);
  return parsed.definition;
}

function isUniqueViolation(e: unknown): boolean {
  const err = e as { code?: string; cause?: { code?: string } };
  return err?.code === '23505' || err?.cause?.code === '23505';
}

export interface CreateWorkflowInput {
  organizationId: string;
  definition: unknown;
  status?: WorkflowStatus;
  userId?: string | null;
  executionTimeout?: number;
  maxRetries?: number;
  changeNote?: string;
}

/**
 * Creates a workflow and its version 1. Nothing is stored when the definition is invalid or names an
 * agent or sub-workflow the organization does not have.
 */
export async function createWorkflow(tx: Tx, input: CreateWorkflowInput): Promise<WorkflowRow> {
  const definition = checkDefinition(input.definition);
  await checkReferences(tx, definition);
  let row: WorkflowRow;
  try {
    [row] = (await tx
      .insert(workflows)
      .values({
        organizationId: input.organizationId,
        name: definition.name,
        description: definition.description ?? null,
        definition: definition as unknown as Record<string, unknown>,
        status: input.status ?? 'draft',
        version: 1,
        executionTimeout:
          input.executionTimeout ?? Math.ceil((definition.settings?.timeoutMs ?? 3_600_000) / 1000),
        maxRetries: input.maxRetries ?? 3,
        ...concurrencyColumns(definition),
        createdBy: input.userId ?? null,
        updatedBy: input.userId ?? null,
      })
      .returning()) as [WorkflowRow];
  } catch (e) {
    if (isUniqueViolation(e))
      throw conflict(`A workflow named "${definition.name}" already exists: choose another name`);
    throw e;
  }
  await tx.insert(workflowVersions).values({
    organizationId: input.organizationId,
    workflowId: row.id,
    version: 1,
    name: definition.name,
    description: definition.description ?? null,
    definition: definition as unknown as Record<string, unknown>,
    graph: graphOf(definition),
    changeNote: input.changeNote ?? 'created',
    createdBy: input.userId ?? null,
  });
  return row;
}

export async function getWorkflow(tx: Tx, id: string): Promise<WorkflowRow> {
  const [row] = await tx
    .select()
    .from(workflows)
    .where(and(eq(workflows.id, id), isNull(workflows.deletedAt)));
  if (!row) throw notFound('Workflow', id);
  return row;
}

export async function lockWorkflow(tx: Tx, id: string): Promise<WorkflowRow> {
  const [row] = await tx
    .select()
    .from(workflows)
    .where(and(eq(workflows.id, id), isNull(workflows.deletedAt)))
    .for('update');
  if (!row) throw notFound('Workflow', id);
  return row;
}

/** Saves a new definition as the next version and makes it current. */
export async function saveDefinition(
  tx: Tx,
  id: string,
  raw: unknown,
  userId: string | null,
  changeNote?: string,
): Promise<WorkflowRow> {
  const definition = checkDefinition(raw);
  const current = await lockWorkflow(tx, id);
  await checkReferences(tx, definition);
  const [{ next }] = (await tx
    .select({ next: workflowVersions.version })
    .from(workflowVersions)
    .where(eq(workflowVersions.workflowId, id))
    .orderBy(desc(workflowVersions.version))
    .limit(1)) as [{ next: number }];
  const version = next + 1;
  await tx.insert(workflowVersions).values({
    organizationId: current.organizationId,
    workflowId: id,
    version,
    name: definition.name,
    description: definition.description ?? null,
    definition: definition as unknown as Record<string, unknown>,
    graph: graphOf(definition),
    changeNote: changeNote ?? null,
    createdBy: userId,
  });
  return makeCurrent(tx, id, definition, version, userId);
}

/**
 * Saves a definition as the next version WITHOUT making it current: a candidate that runs can name by
 * number (experiments, the promotion gate) and that `makeCandidateCurrent` or a rollback promotes.
 */
export async function saveCandidate(
  tx: Tx,
  id: string,
  raw: unknown,
  userId: string | null,
  changeNote?: string,
): Promise<WorkflowVersionRow> {
  const definition = checkDefinition(raw);
  const current = await lockWorkflow(tx, id);
  await checkReferences(tx, definition);
  const [{ next }] = (await tx
    .select({ next: workflowVersions.version })
    .from(workflowVersions)
    .where(eq(workflowVersions.workflowId, id))
    .orderBy(desc(workflowVersions.version))
    .limit(1)) as [{ next: number }];
  const [row] = await tx
    .insert(workflowVersions)
    .values({
      organizationId: current.organizationId,
      workflowId: id,
      version: next + 1,
      name: definition.name,
      description: definition.description ?? null,
      definition: definition as unknown as Record<string, unknown>,
      graph: graphOf(definition),
      changeNote: changeNote ?? 'candidate',
      createdBy: userId,
    })
    .returning();
  return row!;
}

/**
 * Makes a candidate current: when it is the newest version the workflow points at it (no copy);
 * otherwise it is saved again as the next version, like a rollback.
 */
export async function makeCandidateCurrent(
  tx: Tx,
  id: string,
  version: number,
  userId: string | null,
): Promise<WorkflowRow> {
  const current = await lockWorkflow(tx, id);
  const v = await getVersion(tx, id, version);
  const [{ newest }] = (await tx
    .select({ newest: workflowVersions.version })
    .from(workflowVersions)
    .where(eq(workflowVersions.workflowId, id))
    .orderBy(desc(workflowVersions.version))
    .limit(1)) as [{ newest: number }];
  if (version !== newest || version <= current.version)
    return saveDefinition(tx, id, v.definition, userId, `promoted version ${version}`);
  const definition = checkDefinition(v.definition);
  return makeCurrent(tx, id, definition, version, userId);
}

/** Points the workflow at `version` of `definition` (its name, description and concurrency columns too). */
async function makeCurrent(
  tx: Tx,
  id: string,
  definition: WorkflowDefinition,
  version: number,
  userId: string | null,
) {
  try {
    const [row] = await tx
      .update(workflows)
      .set({
        definition: definition as unknown as Record<string, unknown>,
        name: definition.name,
        description: definition.description ?? null,
        version,
        ...concurrencyColumns(definition),
        updatedBy: userId,
        updatedAt: new Date(),
      })
      .where(eq(workflows.id, id))
      .returning();
    return row!;
  } catch (e) {
    if (isUniqueViolation(e))
      throw conflict(`A workflow named "${definition.name}" already exists: choose another name`);
    throw e;
  }
}

/** Makes an old version current again, as a new version (history stays linear and immutable). */
export async function rollbackWorkflow(
  tx: Tx,
  id: string,
  version: number,
  userId: string | null,
): Promise<WorkflowRow> {
  const old = await getVersion(tx, id, version);
  return saveDefinition(tx, id, old.definition, userId, `rollback to version ${version}`);
}

export async function getVersion(tx: Tx, workflowId: string, version: number): Promise<WorkflowVersionRow> {
  const [row] = await tx
    .select()
    .from(workflowVersions)
    .where(and(eq(workflowVersions.workflowId, workflowId), eq(workflowVersions.version, version)));
  if (!row) throw notFound(`Version ${version} of workflow`, workflowId);
  return row;
}

export async function listVersions(tx: Tx, workflowId: string): Promise<WorkflowVersionRow[]> {
  await getWorkflow(tx, workflowId);
  return tx
    .select()
    .from(workflowVersions)
    .where(eq(workflowVersions.workflowId, workflowId))
    .orderBy(desc(workflowVersions.version));
}
