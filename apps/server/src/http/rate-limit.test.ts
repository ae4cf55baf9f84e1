import { randomUUID } from 'node:crypto';
import type { FastifyReply } from 'fastify';
import { afterAll, describe, expect, it } from 'vitest';
import { addressKey, DEFAULT_RATE_LIMITS, type RateLimitSubject, RateLimits } from './rate-limit.ts';

/** The local Redis (started by the machine, or by .ci/run). */
const REDIS_URL = 'redis://127.0.0.1:6379';
const open: RateLimits[] = [];
afterAll(async () => {
  for (const r of open) await r.close();
});

function recorder() {
  const headers: Record<string, string> = {};
  const reply = { header: (k: string, v: string) => (headers[k] = v) } as unknown as FastifyReply;
  return { headers, reply };
}

describe('rate limits shared through Redis', () => {
  it('two server processes (two limiter instances) share one count per key', async () => {
    const a = new RateLimits(DEFAULT_RATE_LIMITS, REDIS_URL);
    const b = new RateLimits(DEFAULT_RATE_LIMITS, REDIS_URL);
    open.push(a, b);
    expect(a.store).toBe('redis');
    const subject: RateLimitSubject = {
      kind: 'api_key',
      id: randomUUID(),
      organizationId: randomUUID(),
      tier: 'starter',
      keyPerMinute: 4,
    };
    const remaining: string[] = [];
    for (const limiter of [a, b, a, b]) {
      const { headers, reply } = recorder();
      await limiter.consume(subject, reply);
      remaining.push(headers['x-ratelimit-remaining']!);
    }
    expect(remaining).toEqual(['3', '2', '1', '0']);
    await expect(b.consume(subject, recorder().reply)).rejects.toMatchObject({
      status: 429,
      code: 'rate_limited',
    });
  });

  it('sign-in attempts reserved by one process block sign-in on the other', async () => {
    const settings = { ...DEFAULT_RATE_LIMITS, login: { ...DEFAULT_RATE_LIMITS.login, accountFailures: 2 } };
    const a = new RateLimits(settings, REDIS_URL);
    const b = new RateLimits(settings, REDIS_URL);
    open.push(a, b);
    const account = `${randomUUID()}@example.test`;
    await a.reserveLogin(account, '10.9.0.1');
    await b.reserveLogin(account, '10.9.0.2');
    await expect(a.reserveLogin(account, '10.9.0.3')).rejects.toMatchObject({ status: 429 });
  });
});

describe('the address a sign-in attempt counts under', () => {
  it('is an IPv4 address as is (also when IPv4-mapped), an IPv6 address as its /64', () => {
    expect(addressKey('10.1.2.3')).toBe('10.1.2.3');
    expect(addressKey('::ffff:10.1.2.3')).toBe('10.1.2.3');
    expect(addressKey('2001:db8:1:2:aaaa:bbbb:cccc:dddd')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:0db8:0001:0002::1')).toBe(addressKey('2001:db8:1:2:ffff::9'));
    expect(addressKey('2001:db8:1:3::1')).not.toBe(addressKey('2001:db8:1:2::1'));
  });
});
