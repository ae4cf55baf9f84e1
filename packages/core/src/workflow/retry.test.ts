import { describe, expect, it } from 'vitest';
import { backoffDelayMs, retryPolicy } from './retry.ts';
import { assertTransition, canTransition } from './run-state.ts';

describe('backoff', () => {
  it('doubles from the initial delay, capped, with jitter in [d/2, d]', () => {
    const p = retryPolicy({ maxAttempts: 5, initialDelayMs: 100, maxDelayMs: 350, jitter: false });
    expect([1, 2, 3, 4].map((f) => backoffDelayMs(p, f))).toEqual([100, 200, 350, 350]);
    const j = retryPolicy({ initialDelayMs: 100 });
    expect(backoffDelayMs(j, 2, () => 0)).toBe(100);
    expect(backoffDelayMs(j, 2, () => 1)).toBe(200);
    expect(backoffDelayMs(retryPolicy({ backoff: 'fixed', initialDelayMs: 70, jitter: false }), 9)).toBe(70);
  });

  it('layers node policy over workflow default over built-in default', () => {
    expect(retryPolicy({ maxAttempts: 3 }, { initialDelayMs: 10 })).toMatchObject({
      maxAttempts: 3,
      initialDelayMs: 10,
      backoff: 'exponential',
    });
  });
});

describe('run state machine (seed 002)', () => {
  it('allows the seed transitions and rejects the rest with a 409', () => {
    expect(canTransition('queued', 'pending')).toBe(true);
    expect(canTransition('running', 'paused')).toBe(true);
    expect(canTransition('paused', 'running')).toBe(true);
    expect(canTransition('completed', 'cancelled')).toBe(false);
    expect(canTransition('queued', 'completed')).toBe(false);
    expect(() => assertTransition('completed', 'running')).toThrow(/completed is final/);
    try {
      assertTransition('cancelled', 'cancelled');
    } catch (e) {
      expect(e).toMatchObject({ status: 409, code: 'invalid_transition' });
    }
  });
});
