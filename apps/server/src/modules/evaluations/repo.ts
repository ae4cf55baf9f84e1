import type { EvaluationSample } from '@aiops/contracts';
import { conflict, notFound } from '@aiops/core';
import {
  agentExecutions,
  evaluationResults,
  evaluators,
  evaluatorVersions,
  type Tx,
  workflowExecutions,
} from '@aiops/db';
import { and, desc, eq, isNull } from 'drizzle-orm';
import { recordQualityScore } from '../agent-metrics/quality.ts';
import { observeEvaluation } from '../learning/learn.ts';
import type { EvaluationOutcome, EvaluatorDefinition } from './evaluate.ts';

const FINISHED = ['completed', 'failed', 'cancelled', 'timeout'];

export type EvaluatorRow = typeof evaluators.$inferSelect;
export type ResultRow = typeof evaluationResults.$inferSelect;

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
    def: EvaluatorDefinition;
    outcome: EvaluationOutcome;
    source: 'online' | 'on_demand';
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
  if (r.agentExecutionId) {
    await recordQualityScore(tx, { agentExecutionId: r.agentExecutionId, score: r.outcome.score });
    // The score also teaches the model recommendations (learning patterns: quality per model for agent tasks).
    const [attempt] = await tx
      .select({ model: agentExecutions.model })
      .from(agentExecutions)
      .where(eq(agentExecutions.id, r.agentExecutionId));
    if (attempt?.model)
      await observeEvaluation(tx, { taskKind: 'agent', model: attempt.model, score: r.outcome.score / 100 });
  }
  return row as ResultRow;
}

export async function listRunResults(tx: Tx, runId: string): Promise<ResultRow[]> {
  const [run] = await tx
    .select({ id: workflowExecutions.id })
    .from(workflowExecutions)
    .where(eq(workflowExecutions.id, runId));
  if (!run) throw notFound('Run', runId);
  return tx
    .select()
    .from(evaluationResults)
    .where(eq(evaluationResults.workflowExecutionId, runId))
    .orderBy(desc(evaluationResults.createdAt), desc(evaluationResults.id))
    .limit(500);
}
