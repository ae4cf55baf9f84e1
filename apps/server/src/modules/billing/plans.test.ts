import { PLANS } from '@aiops/core';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_RATE_LIMITS } from '../../http/rate-limit.ts';
import { call, type SignedUp, signUp, startTestServer, type TestServer } from '../../test-support.ts';

/** Rate limits and the run quota follow the organization's plan, and change with it at once. */
let s: TestServer;
let owner: SignedUp;
beforeAll(async () => {
  s = await startTestServer({ settings: { rateLimits: DEFAULT_RATE_LIMITS } });
  owner = await signUp(s);
});
afterAll(() => s?.close());

describe('limits from the plan', () => {
  it("a user's requests per minute are the plan's, before and after a plan change", async () => {
    const before = await call(s, 'GET', '/api/v1/billing', { token: owner.token });
    expect(before.headers.get('x-ratelimit-limit')).toBe(String(PLANS.starter.rateLimits.userPerMinute));
    expect(before.body.usage.executions).toMatchObject({ included: 500, cap: 500 });
    const changed = await call(s, 'POST', '/api/v1/billing/plan', {
      token: owner.token,
      body: { tier: 'business' },
    });
    expect(changed.status).toBe(200);
    const after = await call(s, 'GET', '/api/v1/billing', { token: owner.token });
    expect(after.headers.get('x-ratelimit-limit')).toBe(String(PLANS.business.rateLimits.userPerMinute));
    expect(after.body.usage.executions).toMatchObject({ included: 100_000, cap: 500_000 });
    expect(after.body.plan.resources).toEqual({
      seedTier: 'pro',
      cpuLimit: 4,
      memoryLimitMb: 8192,
      networkIsolation: 'shared',
      code: { memoryMb: 256, cpuMs: 4000, wallMs: 40_000, network: true },
    });
  });

  it('the run quota is the plan cap: a starter organization is refused its 501st run of the month', async () => {
    const other = await signUp(s);
    const wf = await call(s, 'POST', '/api/v1/workflows', {
      token: other.token,
      body: {
        name: 'q',
        status: 'active',
        definition: {
          name: 'q',
          nodes: [{ id: 'a', type: 'agent', agent: { model: 'simulator:echo', prompt: 'x' } }],
        },
      },
    });
    // Spend the month's 500 runs directly on the counter (as 500 runs would), then ask for one more.
    await s.database.db.system((tx) =>
      tx.execute(sql`UPDATE organizations SET monthly_executions_used = 500,
        monthly_reset_date = (date_trunc('month', now()) + interval '1 month')::date WHERE id = ${other.organizationId}`),
    );
    const r = await call(s, 'POST', `/api/v1/workflows/${wf.body.id}/runs`, {
      token: other.token,
      body: { input: {} },
    });
    expect(r.status).toBe(429);
    expect(r.body.error.code).toBe('quota_exceeded');
  });
});
