import { agentExecutions, runSteps, type Tx } from '@aiops/db';
import { and, eq, gte, or } from 'drizzle-orm';
import { getRun } from './run-rows.ts';

/**
 * A run's events, rebuilt from what the database keeps (the run row, its steps and its attempt rows), so
 * the engine writes no separate event log on its hot path. Each event has a stable id, so a stream that
 * re-reads overlapping windows sends each event once.
 */
export type RunEventType =
  | 'run.queued'
  | 'run.pending'
  | 'run.running'
  | 'run.completed'
  | 'run.failed'
  | 'run.cancelled'
  | 'run.timeout'
  | 'step.started'
  | 'step.completed'
  | 'step.failed'
  | 'step.cancelled'
  | 'step.skipped';

export interface RunEvent {
  id: string;
  type: RunEventType;
  at: string;
  nodeId?: string;
  data: Record<string, unknown>;
}

/** Order of events at the same instant: the run starts, its steps start and end, then the run ends. */
const RANK: Record<string, number> = {
  'run.queued': 0,
  'run.pending': 1,
  'run.running': 2,
  'step.started': 3,
  'step.skipped': 4,
  'step.completed': 5,
  'step.failed': 5,
  'step.cancelled': 5,
};
const rank = (type: string) => RANK[type] ?? 9;

/** Events of the run at or after `since` (all of them without it), oldest first. */
export async function runTimeline(tx: Tx, runId: string, since?: Date): Promise<RunEvent[]> {
  const run = await getRun(tx, runId);
  const events: RunEvent[] = [];
  const add = (e: Omit<RunEvent, 'at'> & { at: Date | null }) => {
    if (e.at && (!since || e.at >= since)) events.push({ ...e, at: e.at.toISOString() });
  };
  add({
    id: `run.queued:${run.id}`,
    type: 'run.queued',
    at: run.createdAt,
    data: { version: run.workflowVersion },
  });
  add({ id: `run.pending:${run.id}`, type: 'run.pending', at: run.createdAt, data: {} });
  add({ id: `run.running:${run.id}`, type: 'run.running', at: run.startedAt, data: {} });
  if (['completed', 'failed', 'cancelled', 'timeout'].includes(run.status)) {
    add({
      id: `run.${run.status}:${run.id}`,
      type: `run.${run.status}` as RunEventType,
      at: run.completedAt,
      data: {
        output: run.outputData,
        durationMs: run.durationMs,
        totalTokens: run.totalTokensUsed,
        cost: run.estimatedCost,
        ...(run.errorCode
          ? { error: { code: run.errorCode, message: run.errorMessage ?? run.statusReason } }
          : {}),
      },
    });
  }
  const attemptFilter = since
    ? and(
        eq(agentExecutions.workflowExecutionId, runId),
        or(gte(agentExecutions.startedAt, since), gte(agentExecutions.completedAt, since)),
      )
    : eq(agentExecutions.workflowExecutionId, runId);
  for (const a of await tx.select().from(agentExecutions).where(attemptFilter)) {
    const base = { nodeId: a.nodeId };
    add({
      ...base,
      id: `step.started:${a.id}`,
      type: 'step.started',
      at: a.startedAt,
      data: { attempt: a.attempt },
    });
    add({
      ...base,
      id: `step.${a.status}:${a.id}`,
      type: (a.status === 'running' ? 'step.started' : `step.${a.status}`) as RunEventType,
      at: a.completedAt,
      data: {
        attempt: a.attempt,
        durationMs: a.durationMs,
        ...(a.status === 'completed' ? { output: a.output } : {}),
        ...(a.errorDetails ? { error: a.errorDetails } : {}),
        tokens: {
          input: a.inputTokens,
          output: a.outputTokens,
          total: a.totalTokens,
          estimated: a.tokensEstimated,
        },
        cost: a.estimatedCost,
        ...(a.model ? { model: a.model } : {}),
      },
    });
  }
  const stepFilter = since
    ? and(eq(runSteps.runId, runId), gte(runSteps.updatedAt, since))
    : eq(runSteps.runId, runId);
  for (const s of await tx.select().from(runSteps).where(stepFilter)) {
    if (s.status === 'running') {
      add({
        id: `step.started:${s.id}:${s.attempt}`,
        type: 'step.started',
        nodeId: s.nodeId,
        at: s.startedAt,
        data: { attempt: s.attempt },
      });
    } else if (s.status === 'skipped') {
      add({
        id: `step.skipped:${s.id}`,
        type: 'step.skipped',
        nodeId: s.nodeId,
        at: s.completedAt,
        data: {},
      });
    } else if (s.status === 'cancelled' && s.attempt === 0) {
      add({
        id: `step.cancelled:${s.id}`,
        type: 'step.cancelled',
        nodeId: s.nodeId,
        at: s.completedAt,
        data: {},
      });
    }
  }
  return events.sort((x, y) => {
    // A run's final event comes after every step event, whatever the clocks say (they differ by microseconds).
    const xf = rank(x.type) === 9;
    const yf = rank(y.type) === 9;
    if (xf !== yf) return xf ? 1 : -1;
    return x.at.localeCompare(y.at) || rank(x.type) - rank(y.type);
  });
}
