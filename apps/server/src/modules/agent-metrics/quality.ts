import { notFound, validationFailed } from '@aiops/core';
import { queryRows, type Tx } from '@aiops/db';
import { sql } from 'drizzle-orm';

/**
 * The seam for evaluations (issue 14; evaluations come later): records a quality score (0–100) for one
 * agent attempt as an agent metric sample with the attempt's dimensions (agent, model, workflow), stamped
 * now. Runs in the caller's tenant transaction: RLS limits it to that organization's attempts. Rolled up
 * and queried like the engine's metrics (`metric=quality`).
 */
export async function recordQualityScore(
  tx: Tx,
  score: { agentExecutionId: string; score: number },
): Promise<void> {
  if (!Number.isFinite(score.score) || score.score < 0 || score.score > 100)
    throw validationFailed('Invalid quality score: must be between 0 and 100', [
      { path: 'score', message: 'between 0 and 100' },
    ]);
  const rows = await queryRows<{ n: number }>(
    tx,
    sql`WITH ins AS (
      INSERT INTO agent_metrics (organization_id, agent_id, model, workflow_id, workflow_execution_id, node_id,
        attempt, quality)
      SELECT a.organization_id, a.agent_id, coalesce(a.model, ''), e.workflow_id, a.workflow_execution_id,
        a.node_id, a.attempt, ${score.score}
      FROM agent_executions a JOIN workflow_executions e ON e.id = a.workflow_execution_id
      WHERE a.id = ${score.agentExecutionId}
      RETURNING 1) SELECT count(*)::int AS n FROM ins`,
  );
  if (!rows[0]?.n) throw notFound('Agent attempt', score.agentExecutionId);
}
