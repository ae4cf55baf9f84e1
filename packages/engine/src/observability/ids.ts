import { createHash, randomBytes } from 'node:crypto';

/**
 * Trace and span ids of the engine's spans (W3C: 32 and 16 lower-case hex). A run's trace id is its id
 * without dashes unless a caller's `traceparent` chose it (kept in `metadata.trace`); the run's span and
 * each step attempt's span have ids derived from the run and the attempt, so any process (the worker, the
 * API building the trace, a re-executed step) computes the same id without storing it.
 */
export const traceIdOfRun = (runId: string): string => runId.replaceAll('-', '');

export const runSpanId = (runId: string): string => derived(`run:${runId}`);

export const stepSpanId = (stepId: string, attempt: number): string => derived(`step:${stepId}:${attempt}`);

/** The span of a step attempt's only model call, when it is derived from the attempt row rather than stored. */
export const modelSpanId = (stepId: string, attempt: number): string => derived(`model:${stepId}:${attempt}`);

export const newSpanId = (): string => {
  const id = randomBytes(8).toString('hex');
  return id === '0000000000000000' ? newSpanId() : id;
};

function derived(key: string): string {
  const id = createHash('sha256').update(key).digest('hex').slice(0, 16);
  return id === '0000000000000000' ? '0000000000000001' : id;
}
