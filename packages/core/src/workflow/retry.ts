import type { RetryPolicy } from '@aiops/contracts';

export const DEFAULT_RETRY: RetryPolicy = {
  maxAttempts: 1,
  backoff: 'exponential',
  initialDelayMs: 500,
  maxDelayMs: 60_000,
  jitter: true,
};

/** The node's policy over the workflow's default over the built-in default. */
export function retryPolicy(...layers: (Partial<RetryPolicy> | undefined)[]): RetryPolicy {
  return Object.assign({}, DEFAULT_RETRY, ...layers.filter(Boolean));
}

/**
 * Delay before the next attempt after `failures` failed attempts (1 = after the first failure).
 * Exponential doubles from `initialDelayMs`, capped at `maxDelayMs`; jitter draws uniformly from
 * [delay/2, delay] so retries of many runs spread out.
 */
export function backoffDelayMs(
  policy: RetryPolicy,
  failures: number,
  random: () => number = Math.random,
): number {
  const base =
    policy.backoff === 'fixed'
      ? policy.initialDelayMs
      : Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** Math.max(0, failures - 1));
  const capped = Math.min(base, policy.maxDelayMs);
  return Math.round(policy.jitter ? capped / 2 + (random() * capped) / 2 : capped);
}
