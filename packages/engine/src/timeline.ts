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

/**
 * Order of events within one millisecond (the resolution of `at`), as they happen: the run starts; steps
 * that started earlier end (and the skips they cause), which is what lets their successors start; steps
 * start; a step that started in that same millisecond ends; the run ends after every step event, whatever
 * the clocks say (they differ by microseconds).
 */
function rank(type: string, at: Date, startedAt: Date | null | undefined): number {
  if (type === 'run.queued') return 0;
  if (type === 'run.pending') return 1;
  if (type === 'run.running') return 2;
  if (type === 'step.started') return 4;
  if (type.startsWith('step.')) return startedAt && startedAt.getTime() === at.getTime() ? 5 : 3;
  return 9;
}

const startedId = (stepId: string, attempt: number) => `step.started:${stepId}:${attempt}`;

/** Events of the run at or after `since` (all of them without it), oldest first. */
export async function runTimeline(tx: Tx, runId: string, since?: Date): Promise<RunEvent[]> {
  const run = await getRun(tx, runId);
  const events: { event: RunEvent; rank: number }[] = [];
  const ids = new Set<string>();
  // `rowInWindow`: the row was selected because it changed in the window, so its events are sent even if
  // they happened earlier (a step that started and ended between two reads of a live stream).
  const add = (
    e: Omit<RunEvent, 'at'> & { at: Date | null },
    rowInWindow = false,
    startedAt?: Date | null,
  ) => {
    if (!e.at || (since && !rowInWindow && e.at < since) || ids.has(e.id)) return;
    ids.add(e.id); // a step's start seen on its row and again on its attempt's: the first wins
    events.push({ event: { ...e, at: e.at.toISOString() }, rank: rank(e.type, e.at, startedAt) });
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
        cost: Number(run.estimatedCost),
        ...(run.errorCode
          ? { error: { code: run.errorCode, message: run.errorMessage ?? run.statusReason } }
          : {}),
      },
    });
  }
  // Step rows before attempt rows: a step seen running here has its attempt row below if it has ended
  // since, so a read never shows a step's successor without the step's own end.
  const stepFilter = since
    ? and(eq(runSteps.runId, runId), gte(runSteps.updatedAt, since))
    : eq(runSteps.runId, runId);
  for (const s of await tx.select().from(runSteps).where(stepFilter)) {
    if (s.status === 'running') {
      add(
        {
          id: startedId(s.id, s.attempt),
          type: 'step.started',
          nodeId: s.nodeId,
          at: s.startedAt,
          data: { attempt: s.attempt },
        },
        true,
      );
    } else if (s.status === 'skipped') {
      add(
        {
          id: `step.skipped:${s.id}`,
          type: 'step.skipped',
          nodeId: s.nodeId,
          at: s.completedAt,
          data: {},
        },
        true,
      );
    } else if (s.status === 'cancelled' && s.attempt === 0) {
      add(
        {
          id: `step.cancelled:${s.id}`,
          type: 'step.cancelled',
          nodeId: s.nodeId,
          at: s.completedAt,
          data: {},
        },
        true,
      );
    }
  }
  const attemptFilter = since
    ? and(
        eq(agentExecutions.workflowExecutionId, runId),
        or(gte(agentExecutions.startedAt, since), gte(agentExecutions.completedAt, since)),
      )
    : eq(agentExecutions.workflowExecutionId, runId);
  const attempts = await tx
    .select({
      a: agentExecutions,
      stepId: runSteps.id,
      stepAttempt: runSteps.attempt,
      stepStartedAt: runSteps.startedAt,
    })
    .from(agentExecutions)
    .leftJoin(
      runSteps,
      and(
        eq(runSteps.runId, agentExecutions.workflowExecutionId),
        eq(runSteps.nodeId, agentExecutions.nodeId),
      ),
    )
    .where(attemptFilter);
  for (const { a, stepId, stepAttempt, stepStartedAt } of attempts) {
    const base = { nodeId: a.nodeId };
    // One `step.started` per attempt, with the id and time the step row gave it while it ran, so a live
    // stream (which saw the running step) and a replay (which sees the attempt row) send the same event.
    const startedAt = stepAttempt === a.attempt && stepStartedAt ? stepStartedAt : a.startedAt;
    add(
      {
        ...base,
        id: startedId(stepId ?? a.id, a.attempt),
        type: 'step.started',
        at: startedAt,
        data: { attempt: a.attempt },
      },
      true,
    );
    add(
      {
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
          cost: Number(a.estimatedCost),
          ...(a.model ? { model: a.model } : {}),
        },
      },
      true,
      startedAt,
    );
  }
  // Each statement sees the database as it was when it began (READ COMMITTED): a run read before its first
  // step was claimed shows no start, although the step rows read after show the step running. The claim
  // marks the run running in the same transaction, so the run row read again has its start.
  if (!run.startedAt && events.some((e) => e.event.type.startsWith('step.'))) {
    const again = await getRun(tx, runId);
    add({ id: `run.running:${run.id}`, type: 'run.running', at: again.startedAt, data: {} }, true);
  }
  return events
    .sort((x, y) => {
      const xf = x.rank === 9;
      const yf = y.rank === 9;
      if (xf !== yf) return xf ? 1 : -1;
      return x.event.at.localeCompare(y.event.at) || x.rank - y.rank;
    })
    .map((x) => x.event);
}
