import { AppError } from '../errors.ts';

/**
 * Run states and transitions (seed 002):
 * queued → pending → running → completed | failed | timeout; running ↔ paused; any unfinished → cancelled.
 * A failed run may be retried (→ pending). Completed, cancelled and timed-out runs are final.
 */
export const RUN_STATUSES = [
  'queued',
  'pending',
  'running',
  'paused',
  'completed',
  'failed',
  'cancelled',
  'timeout',
] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

const TRANSITIONS: Record<RunStatus, readonly RunStatus[]> = {
  queued: ['pending', 'cancelled', 'timeout', 'failed'],
  pending: ['running', 'cancelled', 'timeout', 'failed', 'paused'],
  running: ['completed', 'failed', 'timeout', 'paused', 'cancelled'],
  paused: ['running', 'pending', 'cancelled', 'timeout', 'failed', 'completed'],
  failed: ['pending'],
  completed: [],
  cancelled: [],
  timeout: [],
};

export const FINAL_RUN_STATUSES: readonly RunStatus[] = ['completed', 'failed', 'cancelled', 'timeout'];

export function isFinalRunStatus(status: RunStatus): boolean {
  return status === 'completed' || status === 'cancelled' || status === 'timeout' || status === 'failed';
}

export function canTransition(from: RunStatus, to: RunStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

/** Throws a 409 `invalid_transition` saying what the run's state allows. */
export function assertTransition(from: RunStatus, to: RunStatus): void {
  if (!canTransition(from, to)) {
    const allowed = TRANSITIONS[from];
    throw new AppError(
      409,
      'invalid_transition',
      `A ${from} run cannot become ${to}${allowed.length ? ` (from ${from}: ${allowed.join(', ')})` : `: ${from} is final`}`,
      { details: { from, to, allowed } },
    );
  }
}

/** Step (node) states inside a run. `pending`: waiting for predecessors; `ready`: queued for a worker. */
export const STEP_STATUSES = [
  'pending',
  'ready',
  'running',
  'completed',
  'failed',
  'skipped',
  'cancelled',
] as const;
export type StepStatus = (typeof STEP_STATUSES)[number];

/** Attempt (agent_executions row) states. */
export const ATTEMPT_STATUSES = ['running', 'completed', 'failed', 'cancelled'] as const;
export type AttemptStatus = (typeof ATTEMPT_STATUSES)[number];
