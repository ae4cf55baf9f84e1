import { AppError, PLANS } from '@aiops/core';
import type { FastifyReply } from 'fastify';
import { Redis } from 'ioredis';
import ipaddr from 'ipaddr.js';
import {
  type RateLimiterAbstract,
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
} from 'rate-limiter-flexible';

export type Tier = 'starter' | 'professional' | 'business' | 'enterprise';

/** Requests per minute of one user and of a whole organization, by the organization's tier. */
export interface TierLimits {
  userPerMinute: number;
  orgPerMinute: number;
}

export interface RateLimitSettings {
  tiers: Record<Tier, TierLimits>;
  /** Requests per minute per client address to public routes without credentials (sign-up, reset, …). */
  anonymousPerMinute: number;
  /** Failed sign-ins allowed per account and per client address within `windowSeconds`, then a block. */
  login: { accountFailures: number; ipFailures: number; windowSeconds: number; blockSeconds: number };
}

export const DEFAULT_RATE_LIMITS: RateLimitSettings = {
  // The plans' rate limits (packages/core plans.ts); settings may override them.
  tiers: {
    starter: PLANS.starter.rateLimits,
    professional: PLANS.professional.rateLimits,
    business: PLANS.business.rateLimits,
    enterprise: PLANS.enterprise.rateLimits,
  },
  anonymousPerMinute: 60,
  login: { accountFailures: 5, ipFailures: 50, windowSeconds: 900, blockSeconds: 900 },
};

/** What a request counts against: its API key (the key's own limit) or its user, and its organization. */
export interface RateLimitSubject {
  kind: 'user' | 'api_key';
  id: string;
  organizationId: string;
  tier: Tier;
  /** An API key's requests per minute. */
  keyPerMinute?: number;
}

export const tooManyRequests = (message: string, retryAfterSeconds: number) =>
  new AppError(429, 'rate_limited', message, { details: { retryAfterSeconds }, retryable: true });

const retryAfter = (res: RateLimiterRes) => Math.max(1, Math.ceil(res.msBeforeNext / 1000));

/**
 * Rate limits with rate-limiter-flexible: counters in memory (one process), or in Redis when REDIS_URL is
 * set so that every server process shares them. If Redis is unreachable, an in-memory limiter stands in.
 */
export class RateLimits {
  private readonly limiters = new Map<string, RateLimiterAbstract>();
  private readonly redis: Redis | undefined;

  /** The limits in force: the configured ones with the runtime configuration's overrides (`setOverrides`). */
  private settings: RateLimitSettings;
  private orgLimit: ((organizationId: string) => number | undefined) | undefined;

  constructor(
    private readonly base: RateLimitSettings,
    redisUrl?: string,
  ) {
    this.settings = base;
    this.redis = redisUrl
      ? new Redis(redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: false })
      : undefined;
    // Errors surface through the insurance limiter; an unhandled 'error' event would crash the process.
    this.redis?.on('error', () => {});
    // Commands before the connection is up would all go to the in-memory stand-in: wait for it (bounded).
    const redis = this.redis;
    this.ready = redis
      ? new Promise<void>((resolve) => {
          const done = () => {
            clearTimeout(timer);
            resolve();
          };
          const timer = setTimeout(done, 3000);
          timer.unref();
          if (redis.status === 'ready') done();
          else redis.once('ready', done);
        })
      : Promise.resolve();
  }

  private readonly ready: Promise<void>;

  /**
   * Runtime overrides (modules/config): replaced whole on every configuration change; counters are keyed by
   * their limit, so a new limit starts counting afresh. `orgLimit` gives an organization's own limit.
   */
  setOverrides(
    overrides: { anonymousPerMinute?: number; tiers?: Partial<Record<Tier, TierLimits>> },
    orgLimit?: (organizationId: string) => number | undefined,
  ): void {
    this.settings = {
      ...this.base,
      anonymousPerMinute: overrides.anonymousPerMinute ?? this.base.anonymousPerMinute,
      tiers: { ...this.base.tiers, ...overrides.tiers },
    };
    this.orgLimit = orgLimit;
  }

  get store(): 'redis' | 'memory' {
    return this.redis ? 'redis' : 'memory';
  }

  private limiter(name: string, points: number, duration: number, blockDuration = 0): RateLimiterAbstract {
    const keyPrefix = `aiops:rl:${name}:${points}:${duration}`;
    let l = this.limiters.get(keyPrefix);
    if (!l) {
      const opts = { keyPrefix, points, duration, blockDuration };
      l = this.redis
        ? new RateLimiterRedis({
            ...opts,
            storeClient: this.redis,
            insuranceLimiter: new RateLimiterMemory(opts),
          })
        : new RateLimiterMemory(opts);
      this.limiters.set(keyPrefix, l);
    }
    return l;
  }

  /**
   * Counts one request against the subject's limits; sets X-RateLimit-Limit/Remaining (of the tightest
   * limit) or throws 429 with Retry-After.
   */
  async consume(subject: RateLimitSubject, reply: FastifyReply): Promise<void> {
    await this.ready;
    const tier = this.settings.tiers[subject.tier];
    const own =
      subject.kind === 'api_key'
        ? { name: 'key', points: subject.keyPerMinute ?? tier.userPerMinute, what: 'this API key' }
        : { name: 'user', points: tier.userPerMinute, what: 'your user' };
    const checks = [
      { ...own, key: subject.id },
      {
        name: 'org',
        points: this.orgLimit?.(subject.organizationId) ?? tier.orgPerMinute,
        what: 'your organization',
        key: subject.organizationId,
      },
    ];
    let tightest: { limit: number; remaining: number } | undefined;
    for (const c of checks) {
      try {
        const res = await this.limiter(c.name, c.points, 60).consume(c.key);
        if (!tightest || res.remainingPoints < tightest.remaining) {
          tightest = { limit: c.points, remaining: res.remainingPoints };
        }
      } catch (e) {
        if (!(e instanceof RateLimiterRes)) throw e;
        reply.header('x-ratelimit-limit', String(c.points));
        reply.header('x-ratelimit-remaining', '0');
        throw tooManyRequests(
          `Rate limit of ${c.points} requests per minute for ${c.what} reached: retry after ${retryAfter(e)} s`,
          retryAfter(e),
        );
      }
    }
    if (tightest) {
      reply.header('x-ratelimit-limit', String(tightest.limit));
      reply.header('x-ratelimit-remaining', String(Math.max(0, tightest.remaining)));
    }
  }

  /** Counts a request without credentials against its client address (public routes). */
  async consumeAnonymous(ip: string, reply: FastifyReply): Promise<void> {
    await this.ready;
    const points = this.settings.anonymousPerMinute;
    try {
      const res = await this.limiter('anon', points, 60).consume(ip);
      reply.header('x-ratelimit-limit', String(points));
      reply.header('x-ratelimit-remaining', String(Math.max(0, res.remainingPoints)));
    } catch (e) {
      if (!(e instanceof RateLimiterRes)) throw e;
      reply.header('x-ratelimit-limit', String(points));
      reply.header('x-ratelimit-remaining', '0');
      throw tooManyRequests(
        `Rate limit of ${points} requests per minute from your address reached: retry after ${retryAfter(e)} s`,
        retryAfter(e),
      );
    }
  }

  /**
   * Counts one request to a webhook trigger's URL against the hook's own limit (requests per minute; shared
   * by every process when Redis is set): X-RateLimit-Limit/Remaining, or 429 with Retry-After.
   */
  async consumeHook(hookKey: string, perMinute: number, reply: FastifyReply): Promise<void> {
    await this.ready;
    try {
      const res = await this.limiter('hook', perMinute, 60).consume(hookKey);
      reply.header('x-ratelimit-limit', String(perMinute));
      reply.header('x-ratelimit-remaining', String(Math.max(0, res.remainingPoints)));
    } catch (e) {
      if (!(e instanceof RateLimiterRes)) throw e;
      reply.header('x-ratelimit-limit', String(perMinute));
      reply.header('x-ratelimit-remaining', '0');
      throw tooManyRequests(
        `Rate limit of ${perMinute} requests per minute for this webhook reached: retry after ${retryAfter(e)} s (the trigger's rateLimitPerMinute sets it)`,
        retryAfter(e),
      );
    }
  }

  private loginLimiters() {
    const l = this.settings.login;
    return {
      account: this.limiter('login-account', l.accountFailures, l.windowSeconds, l.blockSeconds),
      ip: this.limiter('login-ip', l.ipFailures, l.windowSeconds, l.blockSeconds),
    };
  }

  /**
   * Reserves one sign-in attempt before any secret is checked, against the client address (an IPv6
   * address counts as its /64) and then the account: refused with 429 once either has used its attempts.
   * The reservation stands as a failure unless the attempt turns out right (`succeeded`). Counting first
   * is what holds under concurrency: parallel guesses cannot all pass a check made before any is counted.
   */
  async reserveLogin(account: string, ip: string): Promise<LoginAttempt> {
    await this.ready;
    const { account: a, ip: i } = this.loginLimiters();
    const address = addressKey(ip);
    const take = async (l: RateLimiterAbstract, key: string, what: string) => {
      try {
        await l.consume(key);
      } catch (e) {
        if (!(e instanceof RateLimiterRes)) throw e;
        throw tooManyRequests(
          `Too many failed sign-ins for ${what}: wait ${retryAfter(e)} s, or reset the password`,
          retryAfter(e),
        );
      }
    };
    await take(i, address, 'your address');
    try {
      await take(a, account, 'this account');
    } catch (e) {
      // A refused account does not charge the address twice for the same attempt.
      await i.reward(address).catch(() => {});
      throw e;
    }
    let settled = false;
    return {
      // A right attempt gives its address point back and clears the account's failures.
      succeeded: async () => {
        if (settled) return;
        settled = true;
        await Promise.all([i.reward(address), a.delete(account)]);
      },
      // Not a guess (e.g. the right password, second factor still to come): the attempt is given back.
      release: async () => {
        if (settled) return;
        settled = true;
        await Promise.all([i.reward(address), a.reward(account)]);
      },
    };
  }

  /** Clears an account's failures (a password reset proves its owner). */
  async clearLoginFailures(account: string): Promise<void> {
    await this.ready;
    await this.loginLimiters().account.delete(account);
  }

  async close(): Promise<void> {
    if (this.redis) await this.redis.quit().catch(() => this.redis?.disconnect());
  }
}

/** One reserved sign-in attempt: counted as a failure unless settled otherwise. */
export interface LoginAttempt {
  succeeded(): Promise<void>;
  release(): Promise<void>;
}

/**
 * The key an address's sign-in attempts count under: IPv4 as is (IPv4-mapped IPv6 too), IPv6 as its /64,
 * the block one subscriber usually holds whole (so rotating through it does not multiply the attempts).
 */
export function addressKey(ip: string): string {
  if (!ipaddr.isValid(ip)) return ip;
  const parsed = ipaddr.process(ip);
  if (parsed.kind() === 'ipv4') return parsed.toString();
  return `${ipaddr.IPv6.networkAddressFromCIDR(`${parsed.toString()}/64`).toString()}/64`;
}
