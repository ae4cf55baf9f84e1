import { conflict, notFound, validationFailed } from '@aiops/core';
import { experimentItems, experiments, type Tx, workflowVersions } from '@aiops/db';
import { and, asc, eq } from 'drizzle-orm';
import { datasetItemsAt, findDataset } from '../datasets/service.ts';
import { definitionOf, findEvaluator } from '../evaluations/repo.ts';
import { aggregate, type ItemScore } from './figures.ts';

export type ExperimentRow = typeof experiments.$inferSelect;
export type ExperimentItemRow = typeof experimentItems.$inferSelect;

export interface SnapshotEvaluator {
  evaluatorId: string;
  name: string;
  version: number;
  kind: 'rule' | 'judge';
  config: Record<string, unknown>;
  threshold: number;
}

export const evaluatorsOf = (row: ExperimentRow) => row.evaluators as unknown as SnapshotEvaluator[];

export async function findExperiment(tx: Tx, id: string): Promise<ExperimentRow> {
  const [row] = await tx.select().from(experiments).where(eq(experiments.id, id));
  if (!row) throw notFound('Experiment', id);
  return row;
}

export async function itemsOf(tx: Tx, id: string): Promise<ExperimentItemRow[]> {
  return tx
    .select()
    .from(experimentItems)
    .where(eq(experimentItems.experimentId, id))
    .orderBy(asc(experimentItems.position));
}

/** An experiment with its aggregates per evaluator and its totals, from its items. */
export function experimentDto(row: ExperimentRow, items: ExperimentItemRow[]) {
  const evs = evaluatorsOf(row);
  const scored = items.filter((i) => i.status === 'scored');
  const latencies = scored.map((i) => i.latencyMs).filter((l): l is number => l !== null);
  return {
    id: row.id,
    name: row.name,
    datasetId: row.datasetId,
    datasetVersion: row.datasetVersion,
    workflowId: row.workflowId,
    workflowVersion: row.workflowVersion,
    agentId: row.agentId,
    agentVersion: row.agentVersion,
    evaluators: evs.map((e) => ({ evaluatorId: e.evaluatorId, name: e.name, version: e.version })),
    parallelism: row.parallelism,
    status: row.status,
    purpose: row.purpose,
    totalItems: row.totalItems,
    doneItems: row.doneItems,
    aggregates: aggregate(
      evs,
      scored.map((i) => i.scores as unknown as ItemScore[]),
    ),
    totals: {
      costUsd: Math.round(scored.reduce((a, i) => a + Number(i.costUsd), 0) * 1e6) / 1e6,
      tokens: scored.reduce((a, i) => a + i.tokens, 0),
      meanLatencyMs: latencies.length
        ? Math.round(latencies.reduce((a, b) => a + b, 0) / latencies.length)
        : null,
      failedRuns: scored.filter((i) => i.runStatus !== 'completed').length,
    },
    createdAt: row.createdAt.toISOString(),
    completedAt: row.completedAt?.toISOString() ?? null,
  };
}
export type ExperimentDto = ReturnType<typeof experimentDto>;

export function experimentItemDto(
  row: ExperimentItemRow,
  item: { input: unknown; expectedOutput: unknown } | undefined,
) {
  return {
    id: row.id,
    datasetItemId: row.datasetItemId,
    position: row.position,
    status: row.status as 'pending' | 'running' | 'scored',
    runId: row.runId,
    runStatus: row.runStatus,
    input: item?.input ?? null,
    expectedOutput: item?.expectedOutput ?? null,
    output: row.output ?? null,
    scores: row.scores as unknown as ItemScore[],
    latencyMs: row.latencyMs,
    costUsd: Number(row.costUsd),
    tokens: row.tokens,
    error: row.error,
  };
}

export interface NewExperiment {
  organizationId: string;
  userId: string | null;
  name?: string | undefined;
  datasetId: string;
  datasetVersion?: number | undefined;
  workflowId: string;
  workflowVersion: number;
  /** An agent experiment: the workflow is the agent's one-step harness (agent-harness.ts). */
  agent?: { id: string; version: number; name: string } | undefined;
  evaluatorIds: string[];
  parallelism: number;
  purpose: 'manual' | 'promotion';
}

/**
 * Records an experiment and one pending item per dataset item, in the caller's tenant transaction; the
 * experiment loop (driver.ts) starts their runs. Evaluator definitions are copied: later edits to an
 * evaluator do not change what this experiment measures.
 */
export async function insertExperiment(tx: Tx, x: NewExperiment): Promise<ExperimentRow> {
  const ds = await findDataset(tx, x.datasetId);
  const datasetVersion = x.datasetVersion ?? ds.version;
  if (datasetVersion > ds.version)
    throw validationFailed(`Dataset ${ds.id} has versions 1 to ${ds.version}`, [
      { path: 'body.datasetVersion', message: `must be at most ${ds.version}` },
    ]);
  const [v] = await tx
    .select({ version: workflowVersions.version })
    .from(workflowVersions)
    .where(
      and(eq(workflowVersions.workflowId, x.workflowId), eq(workflowVersions.version, x.workflowVersion)),
    );
  if (!v) throw notFound(`Version ${x.workflowVersion} of workflow`, x.workflowId);
  const evs: SnapshotEvaluator[] = [];
  for (const id of new Set(x.evaluatorIds)) {
    const d = definitionOf(await findEvaluator(tx, id));
    evs.push({ ...d });
  }
  const items = await datasetItemsAt(tx, ds.id, datasetVersion);
  if (!items.length)
    throw conflict(`Dataset "${ds.name}" version ${datasetVersion} has no items: add some first`, {
      datasetId: ds.id,
    });
  const [row] = (await tx
    .insert(experiments)
    .values({
      organizationId: x.organizationId,
      name:
        x.name ??
        (x.agent ? `${ds.name} · ${x.agent.name} v${x.agent.version}` : `${ds.name} · v${x.workflowVersion}`),
      datasetId: ds.id,
      datasetVersion,
      workflowId: x.workflowId,
      workflowVersion: x.workflowVersion,
      agentId: x.agent?.id ?? null,
      agentVersion: x.agent?.version ?? null,
      evaluators: evs as unknown as Record<string, unknown>[],
      parallelism: x.parallelism,
      purpose: x.purpose,
      totalItems: items.length,
      createdBy: x.userId,
    })
    .returning()) as [ExperimentRow];
  for (let i = 0; i < items.length; i += 2_000)
    await tx.insert(experimentItems).values(
      items.slice(i, i + 2_000).map((it, j) => ({
        organizationId: x.organizationId,
        experimentId: row.id,
        datasetItemId: it.id,
        position: i + j + 1,
      })),
    );
  return row;
}
