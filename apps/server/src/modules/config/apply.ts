import type { FastifyBaseLogger } from 'fastify';
import type { RateLimits, Tier, TierLimits } from '../../http/rate-limit.ts';
import type { RuntimeConfig } from './runtime.ts';

/**
 * Applies the runtime settings to this process on every configuration change: the log level of the app's
 * logger (request loggers are its children, made per request, so they follow) and the rate limits.
 */
export function applyRuntimeConfig(
  config: RuntimeConfig,
  target: { log: FastifyBaseLogger; baseLogLevel: string; rateLimits: RateLimits },
): void {
  config.onChange((c) => {
    const level = c.setting<string>('log_level') ?? target.baseLogLevel;
    if (target.log.level !== level) target.log.level = level;
    target.rateLimits.setOverrides(
      {
        anonymousPerMinute: c.setting<number>('rate_limits.anonymous_per_minute'),
        tiers: c.setting<Partial<Record<Tier, TierLimits>>>('rate_limits.tiers'),
      },
      (organizationId) => c.setting<number>('rate_limits.org_per_minute', organizationId),
    );
  });
}
