import type { ManualScoreBody } from '@aiops/contracts';
import { conflict, notFound } from '@aiops/core';
import { agentExecutions, type Tx, workflowExecutions } from '@aiops/db';
import { and, desc, eq } from 'drizzle-orm';
import type { FastifyRequest } from 'fastify';
import { authOf } from '../../http/auth.ts';
import { audit, tenant } from '../../http/tenant.ts';
import { insertResult, resultById } from './repo.ts';
import { resultDto } from './service.ts';

/** The evaluator name of manual scores when none is given. */
export const MANUAL_SCORE_NAME = 'human';
const DEFAULT_MANUAL_THRESHOLD = 50;
const FINISHED = ['completed', 'failed', 'cancelled', 'timeout'];

/** The step attempt a manual score is about: by id, or by node id and attempt (the latest by default). */
async function attemptOf(tx: Tx, runId: string, body: ManualScoreBody): Promise<string | null> {
  if (body.agentExecutionId) {
    const [a] = await tx
      .select({ id: agentExecutions.id })
      .from(agentExecutions)
      .where(
        and(eq(agentExecutions.id, body.agentExecutionId), eq(agentExecutions.workflowExecutionId, runId)),
      );
    if (!a) throw notFound('Step attempt of this run', body.agentExecutionId);
    return a.id;
  }
  if (!body.nodeId) return null;
  const [a] = await tx
    .select({ id: agentExecutions.id })
    .from(agentExecutions)
    .where(
      and(
        eq(agentExecutions.workflowExecutionId, runId),
        eq(agentExecutions.nodeId, body.nodeId),
        ...(body.attempt !== undefined ? [eq(agentExecutions.attempt, body.attempt)] : []),
      ),
    )
    .orderBy(desc(agentExecutions.attempt), desc(agentExecutions.createdAt))
    .limit(1);
  if (!a)
    throw notFound(
      'Step attempt of this run',
      body.attempt !== undefined ? `${body.nodeId} #${body.attempt}` : body.nodeId,
    );
  return a.id;
}

/**
 * Stores a person's score of a finished run or of one step attempt of it (👍 = 100 and passed, 👎 = 0 and
 * failed; a number passes at its threshold, 50 by default) with the comment as its explanation and the
 * user as its author; audited. An agent attempt's manual score feeds the agent's quality metric like any
 * other score.
 */
export function addManualScore(request: FastifyRequest, runId: string, body: ManualScoreBody) {
  const auth = authOf(request);
  return tenant(request, async (tx) => {
    const [run] = await tx
      .select({ status: workflowExecutions.status })
      .from(workflowExecutions)
      .where(eq(workflowExecutions.id, runId));
    if (!run) throw notFound('Run', runId);
    if (!FINISHED.includes(run.status))
      throw conflict(`Run ${runId} is ${run.status}: score it once it has finished`, { status: run.status });
    const agentExecutionId = await attemptOf(tx, runId, body);
    const thumbs = body.thumbs;
    const score = thumbs ? (thumbs === 'up' ? 100 : 0) : body.score!;
    const threshold = thumbs ? 100 : (body.threshold ?? DEFAULT_MANUAL_THRESHOLD);
    const row = await insertResult(tx, {
      organizationId: auth.organizationId,
      runId,
      agentExecutionId,
      def: {
        evaluatorId: null,
        name: body.name ?? MANUAL_SCORE_NAME,
        version: 0,
        kind: 'manual',
        threshold,
      },
      outcome: {
        score,
        passed: thumbs ? thumbs === 'up' : score >= threshold,
        threshold,
        details: {
          type: thumbs ? 'thumbs' : 'number',
          ...(thumbs ? { thumbs } : {}),
          ...(auth.apiKeyId ? { apiKeyId: auth.apiKeyId } : {}),
        },
        explanation: body.comment || null,
        costUsd: '0',
      },
      source: 'manual',
      userId: auth.userId,
    });
    const dto = resultDto((await resultById(tx, row.id))!);
    await audit(tx, request, {
      entityType: 'evaluation_result',
      entityId: row.id,
      action: 'created',
      after: {
        runId,
        agentExecutionId,
        source: 'manual',
        name: dto.evaluatorName,
        score,
        passed: dto.passed,
        comment: dto.explanation,
      },
    });
    return dto;
  });
}
