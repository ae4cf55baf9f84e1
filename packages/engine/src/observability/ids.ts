import { hash, randomFillSync } from 'node:crypto';

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

// Random span ids are cut from a pool of random bytes refilled 512 ids at a time: one `randomBytes(8)` per
// id cost about 5 µs (a call into OpenSSL each time), as much as the rest of a model call's span.
const pool = Buffer.alloc(8 * 512);
let next = pool.length;

export const newSpanId = (): string => {
  if (next === pool.length) {
    randomFillSync(pool);
    next = 0;
  }
  const id = pool.toString('hex', next, next + 8);
  next += 8;
  return id === '0000000000000000' ? newSpanId() : id;
};

// `hash` (one call, no Hash object) is the same SHA-256 as `createHash`, about five times faster on keys
// this short.
function derived(key: string): string {
  const id = hash('sha256', key).slice(0, 16);
  return id === '0000000000000000' ? '0000000000000001' : id;
}
