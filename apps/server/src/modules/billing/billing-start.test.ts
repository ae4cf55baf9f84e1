import { PLANS } from '@aiops/core';
import { queryRows } from '@aiops/db';
import { testBackend } from '@aiops/testing';
import { Decimal } from 'decimal.js';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runJobNow } from '../../jobs/scheduler.ts';
import { type MailCatcher, startMailCatcher } from '../../test-mail.ts';
import {
  call,
  type SignedUp,
  setPlan,
  signUp,
  startTestServer,
  type TestServer,
} from '../../test-support.ts';
import { monthlyInvoicesJob } from './jobs.ts';

/**
 * Issue 20's leftovers: the month-end job never invoices time before an organization's billing began (its
 * creation, or the billing migration for older ones), and the engine's lazy monthly reset is audited like
 * the job's.
 */
let s: TestServer;
let mail: MailCatcher;
let upgraded: SignedUp;
let fresh: SignedUp;
beforeAll(async () => {
  mail = await startMailCatcher();
  s = await startTestServer({ settings: { smtpUrl: mail.url } });
  upgraded = await signUp(s);
  fresh = await signUp(s);
});
afterAll(async () => {
  await s?.close();
  await mail?.close();
});

const invoicesOf = (organizationId: string) =>
  s.database.db.system((tx) =>
    queryRows<{
      period: string;
      lines: { kind: string; description: string; quantity: string; amount: string }[];
    }>(
      tx,
      sql`SELECT period_start::text AS period, line_items AS lines FROM invoices
          WHERE organization_id = ${organizationId} AND kind = 'invoice' ORDER BY period_start`,
    ),
  );

describe(`billing start on ${testBackend()}`, () => {
  it('the first month-end run after the upgrade invoices no period before billing began, then prorates the month it began in', async () => {
    // As the migration leaves an organization that existed before billing: billing began at the migration.
    await setPlan(s, upgraded, 'professional');
    await s.database.db.system((tx) =>
      tx.execute(
        sql`UPDATE organizations SET billing_started_at = '2027-03-10T09:30:00Z', created_at = '2026-06-01'
            WHERE id = ${upgraded.organizationId}`,
      ),
    );
    await s.database.db.system((tx) =>
      tx.execute(
        sql`UPDATE organizations SET billing_started_at = '2027-01-15T00:00:00Z' WHERE id = ${fresh.organizationId}`,
      ),
    );
    // First start after the upgrade: the scheduler catches up on the run due 2027-03-01 (period February).
    await runJobNow(monthlyInvoicesJob, s.app.jobDeps, new Date('2027-03-01T02:00:00Z'));
    expect(await invoicesOf(upgraded.organizationId)).toEqual([]);
    expect((await invoicesOf(fresh.organizationId)).map((i) => i.period)).toEqual(['2027-02-01']);

    await runJobNow(monthlyInvoicesJob, s.app.jobDeps, new Date('2027-04-01T02:00:00Z'));
    const [march, ...more] = await invoicesOf(upgraded.organizationId);
    expect(more).toEqual([]);
    expect(march!.period).toBe('2027-03-01');
    const plan = PLANS.professional;
    expect(march!.lines[0]).toEqual({
      kind: 'proration',
      description: `${plan.name} plan, 2027-03-10 to 2027-03-31 (22 of 31 days)`,
      quantity: '22/31',
      unitPrice: new Decimal(plan.monthlyPrice).toFixed(2),
      amount: new Decimal(plan.monthlyPrice).mul(22).div(31).toDecimalPlaces(2).toFixed(2),
    });
    // An organization billed since before the period pays the whole month.
    const fullMonth = await invoicesOf(fresh.organizationId);
    expect(fullMonth.map((i) => i.period)).toEqual(['2027-02-01', '2027-03-01']);
    expect(fullMonth[1]!.lines[0]!.kind).toBe('plan');
  });

  it("the engine's lazy reset on the month's first run writes the audit row the job writes", async () => {
    const wf = await call(s, 'POST', '/api/v1/workflows', {
      token: fresh.token,
      body: {
        name: 'lazy',
        status: 'active',
        definition: {
          name: 'lazy',
          nodes: [{ id: 'a', type: 'agent', agent: { model: 'simulator:echo', prompt: 'x' } }],
        },
      },
    });
    expect(wf.status, JSON.stringify(wf.body)).toBe(201);
    await s.database.db.system((tx) =>
      tx.execute(sql`UPDATE organizations SET monthly_executions_used = 42, monthly_reset_date = '2026-01-01'
        WHERE id = ${fresh.organizationId}`),
    );
    const run = await call(s, 'POST', `/api/v1/workflows/${wf.body.id}/runs`, {
      token: fresh.token,
      body: { input: {} },
    });
    expect(run.status, JSON.stringify(run.body)).toBe(202);
    const [org] = await s.database.db.system((tx) =>
      queryRows<{ reset: string }>(
        tx,
        sql`SELECT monthly_reset_date::text AS reset FROM organizations WHERE id = ${fresh.organizationId}`,
      ),
    );
    const now = new Date();
    const next = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1))
      .toISOString()
      .slice(0, 10);
    expect(org!.reset).toBe(next);
    const audits = await call(s, 'GET', '/api/v1/audit-logs?entityType=organization&limit=100', {
      token: fresh.token,
    });
    const lazy = audits.body.data.filter(
      (a: { action: string; changes: { before?: { monthlyResetDate?: string } } }) =>
        a.action === 'monthly_reset' && a.changes.before?.monthlyResetDate === '2026-01-01',
    );
    expect(lazy).toHaveLength(1);
    expect(lazy[0]).toMatchObject({
      entityId: fresh.organizationId,
      changes: {
        before: { monthlyExecutionsUsed: 42, monthlyResetDate: '2026-01-01' },
        after: { monthlyExecutionsUsed: 1, monthlyResetDate: next },
      },
      metadata: { by: 'engine', lazy: true },
    });
  });
});
