import { notFound } from '@aiops/core';
import { agentExecutions, runSteps, type Tx, workflowExecutions } from '@aiops/db';
import { asc, eq } from 'drizzle-orm';

export type RunRow = typeof workflowExecutions.$inferSelect;
export type StepRow = typeof runSteps.$inferSelect;
export type AttemptRow = typeof agentExecutions.$inferSelect;

export async function getRun(tx: Tx, runId: string): Promise<RunRow> {
  const [run] = await tx.select().from(workflowExecutions).where(eq(workflowExecutions.id, runId));
  if (!run) throw notFound('Run', runId);
  return run;
}

export async function getRunDetail(tx: Tx, runId: string) {
  const run = await getRun(tx, runId);
  const steps = await tx.select().from(runSteps).where(eq(runSteps.runId, runId));
  const attempts = await tx
    .select()
    .from(agentExecutions)
    .where(eq(agentExecutions.workflowExecutionId, runId))
    .orderBy(asc(agentExecutions.startedAt), asc(agentExecutions.attempt));
  return { run, steps, attempts };
}
