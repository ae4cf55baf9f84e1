import type { EvaluationSample } from '@aiops/contracts';
import { conflict, notFound } from '@aiops/core';
import {
  agentExecutions,
  type EvaluationResultKind,
  type EvaluationSource,
  evaluationResults,
  evaluators,
  evaluatorVersions,
  type Tx,
  users,
  workflowExecutions,
} from '@aiops/db';
import { and, desc, eq, isNull, type SQL, sql } from 'drizzle-orm';
import { recordQualityScore } from '../agent-metrics/quality.ts';
import { scoreRecorded } from '../alerts/evaluate.ts';
import { recordModelSpend } from '../billing/ledger.ts';
import { observeEvaluation } from '../learning/learn.ts';
import type { EvaluationOutcome, EvaluatorDefinition } from './evaluate.ts';

const FINISHED = ['completed', 'failed', 'cancelled', 'timeout'];

export type EvaluatorRow = typeof evaluators.$inferSelect;
export type ResultRow = typeof evaluationResults.$inferSelect;

/** A result with the scored attempt's node and number and its author's name (what the API shows). */
export interface ResultView {
  result: ResultRow;
  nodeId: string | null;
  attempt: number | null;
  createdByName: string | null;
}

/** Who scored a result: an evaluator version, or a person (kind `manual`, no evaluator, version 0). */
export type ScoredBy = Pick<EvaluatorDefinition, 'name' | 'version' | 'threshold'> & {
  evaluatorId: string | null;
  kind: EvaluationResultKind;
};

export async function findEvaluator(tx: Tx, id: string): Promise<EvaluatorRow> {
  const [row] = await tx
    .select()
    .from(evaluators)
    .where(and(eq(evaluators.id, id), isNull(evaluators.deletedAt)));
  if (!row) throw notFound('Evaluator', id);
  return row;
}

export const definitionOf = (row: EvaluatorRow): EvaluatorDefinition => ({
  evaluatorId: row.id,
  name: row.name,
  version: row.version,
  kind: row.kind,
  config: row.config,
  threshold: Number(row.threshold),
});

export async function listEvaluatorVersions(tx: Tx, id: string) {
  await findEvaluator(tx, id);
  return tx
    .select()
    .from(evaluatorVersions)
    .where(eq(evaluatorVersions.evaluatorId, id))
    .orderBy(desc(evaluatorVersions.version));
}

/**
 * What an evaluator scores for a run (its input, output, duration, cost and tokens) or, given an agent
 * attempt, for that attempt. Only finished runs are scored.
 */
export async function loadSample(
  tx: Tx,
  runId: string,
  agentExecutionId?: string | null,
): Promise<EvaluationSample> {
  const [run] = await tx.select().from(workflowExecutions).where(eq(workflowExecutions.id, runId));
  if (!run) throw notFound('Run', runId);
  if (!FINISHED.includes(run.status))
    throw conflict(`Run ${runId} is ${run.status}: only finished runs are evaluated`, { status: run.status });
  if (agentExecutionId) {
    const [a] = await tx
      .select()
      .from(agentExecutions)
      .where(and(eq(agentExecutions.id, agentExecutionId), eq(agentExecutions.workflowExecutionId, runId)));
    if (!a) throw notFound('Agent attempt of this run', agentExecutionId);
    return {
      input: a.input,
      output: a.output ?? null,
      ...(a.durationMs !== null ? { latencyMs: a.durationMs } : {}),
      costUsd: Number(a.estimatedCost),
      tokens: a.totalTokens,
    };
  }
  return {
    input: run.inputData,
    output: run.outputData ?? null,
    ...(run.durationMs !== null ? { latencyMs: run.durationMs } : {}),
    costUsd: Number(run.estimatedCost),
    tokens: run.totalTokensUsed,
  };
}

/**
 * Stores one result and, for an agent attempt, feeds its score to the agent's quality metric (the
 * agent-metrics seam), in the caller's tenant transaction.
 */
export async function insertResult(
  tx: Tx,
  r: {
    organizationId: string;
    runId: string;
    agentExecutionId: string | null;
    def: ScoredBy;
    outcome: EvaluationOutcome;
    source: EvaluationSource;
    userId: string | null;
  },
): Promise<ResultRow> {
  const [row] = await tx
    .insert(evaluationResults)
    .values({
      organizationId: r.organizationId,
      workflowExecutionId: r.runId,
      agentExecutionId: r.agentExecutionId,
      evaluatorId: r.def.evaluatorId,
      evaluatorName: r.def.name,
      evaluatorVersion: r.def.version,
      kind: r.def.kind,
      score: r.outcome.score.toFixed(2),
      threshold: r.def.threshold.toFixed(2),
      passed: r.outcome.passed,
      details: r.outcome.details,
      explanation: r.outcome.explanation,
      costUsd: r.outcome.costUsd,
      source: r.source,
      createdBy: r.userId,
    })
    .returning();
  let agentId: string | null = null;
  if (r.agentExecutionId) {
    await recordQualityScore(tx, { agentExecutionId: r.agentExecutionId, score: r.outcome.score });
    // The score also teaches the model recommendations (learning patterns: quality per model for agent tasks).
    const [attempt] = await tx
      .select({ model: agentExecutions.model, agentId: agentExecutions.agentId })
      .from(agentExecutions)
      .where(eq(agentExecutions.id, r.agentExecutionId));
    agentId = attempt?.agentId ?? null;
    if (attempt?.model)
      await observeEvaluation(tx, { taskKind: 'agent', model: attempt.model, score: r.outcome.score / 100 });
  }
  if (r.def.kind === 'judge') await recordJudgeSpend(tx, row as ResultRow, r.outcome, agentId);
  await scoreRecorded(tx, r.organizationId, r.runId, agentId);
  return row as ResultRow;
}

/** The judge call's tokens as the judge recorded them in a result's details. */
export function judgeUsage(details: Record<string, unknown>): {
  model: string;
  input: number;
  output: number;
} {
  const tokens = (details.tokens ?? {}) as { input?: unknown; output?: unknown };
  const n = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? Math.round(v) : 0);
  return {
    model: typeof details.model === 'string' ? details.model : 'unknown',
    input: n(tokens.input),
    output: n(tokens.output),
  };
}

/**
 * A judge's call goes on the usage ledger and the organization's monthly cost like a run's model call,
 * in the transaction that stores its result, once per result (source key `evaluation:<result id>`).
 */
async function recordJudgeSpend(
  tx: Tx,
  row: ResultRow,
  outcome: EvaluationOutcome,
  agentId: string | null,
): Promise<void> {
  const [run] = await tx
    .select({ workflowId: workflowExecutions.workflowId })
    .from(workflowExecutions)
    .where(eq(workflowExecutions.id, row.workflowExecutionId));
  const usage = judgeUsage(outcome.details);
  await recordModelSpend(tx, {
    organizationId: row.organizationId,
    sourceKey: `evaluation:${row.id}`,
    resourceType: 'evaluation_result',
    resourceId: row.id,
    workflowId: run?.workflowId ?? null,
    model: usage.model,
    inputTokens: usage.input,
    outputTokens: usage.output,
    costUsd: outcome.costUsd,
    occurredAt: row.createdAt,
    details: {
      runId: row.workflowExecutionId,
      agentExecutionId: row.agentExecutionId,
      agentId,
      evaluatorId: row.evaluatorId,
      evaluatorName: row.evaluatorName,
      evaluatorVersion: row.evaluatorVersion,
      source: row.source,
    },
  });
}

function selectViews(tx: Tx, where: SQL | undefined) {
  return tx
    .select({
      result: evaluationResults,
      nodeId: agentExecutions.nodeId,
      attempt: agentExecutions.attempt,
      createdByName: sql<string | null>`coalesce(${users.fullName}, ${users.email})`,
    })
    .from(evaluationResults)
    .leftJoin(agentExecutions, eq(agentExecutions.id, evaluationResults.agentExecutionId))
    .leftJoin(users, eq(users.id, evaluationResults.createdBy))
    .where(where)
    .orderBy(desc(evaluationResults.createdAt), desc(evaluationResults.id));
}

export async function resultById(tx: Tx, id: string): Promise<ResultView | undefined> {
  const [row] = await selectViews(tx, eq(evaluationResults.id, id)).limit(1);
  return row;
}

export async function listRunResults(tx: Tx, runId: string): Promise<ResultView[]> {
  const [run] = await tx
    .select({ id: workflowExecutions.id })
    .from(workflowExecutions)
    .where(eq(workflowExecutions.id, runId));
  if (!run) throw notFound('Run', runId);
  return selectViews(tx, eq(evaluationResults.workflowExecutionId, runId)).limit(500);
}
