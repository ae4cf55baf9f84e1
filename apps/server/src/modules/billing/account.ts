import type { BillingAccount, BillingSettingsBody } from '@aiops/contracts';
import { MONTHLY_EXECUTION_QUOTA, notFound, PLANS, type PlanTier, planFor } from '@aiops/core';
import { organizations, queryRows, type Tx } from '@aiops/db';
import { eq, sql } from 'drizzle-orm';
import { computeInvoice } from './invoice-math.ts';
import { planSegments } from './invoices.ts';
import { periodOf, recordPlanChange } from './ledger.ts';
import { purchasesForPeriod } from './purchases.ts';

/** The organization's plan, this period's usage against its allowances, and the invoice so far. */
export async function billingAccount(
  tx: Tx,
  organizationId: string,
  now = new Date(),
): Promise<BillingAccount> {
  const [org] = await tx.select().from(organizations).where(eq(organizations.id, organizationId));
  if (!org) throw notFound('organization');
  const plan = planFor(org.subscriptionTier) ?? PLANS.starter;
  const period = periodOf(now);
  const [u] = await queryRows<{ runs: string; tokens: string; api: string; cost: string; seats: string }>(
    tx,
    sql`SELECT coalesce(sum(quantity) FILTER (WHERE usage_type = 'workflow_execution'), 0)::text AS runs,
          coalesce(sum(quantity) FILTER (WHERE usage_type = 'tokens'), 0)::text AS tokens,
          coalesce(sum(quantity) FILTER (WHERE usage_type = 'api_call'), 0)::text AS api,
          coalesce(sum(total_cost), 0)::text AS cost,
          (SELECT count(*) FROM memberships WHERE organization_id = ${organizationId})::text AS seats
        FROM usage_records WHERE organization_id = ${organizationId} AND period_start = ${period.start}`,
  );
  const estimate = computeInvoice({
    periodStart: period.start,
    periodEnd: period.end,
    segments: await planSegments(tx, organizationId, plan, period.start, period.end),
    executions: Number(u!.runs),
    tokens: Number(u!.tokens),
    purchases: await purchasesForPeriod(tx, organizationId, period.start, period.end),
    tax: { rate: '0', name: 'Tax', reverseCharge: false, country: null },
    vatId: null,
  });
  const address = org.billingAddress as BillingAccount['billingAddress'];
  return {
    plan: { ...plan },
    period,
    billingEmail: org.billingEmail,
    billingAddress: address ?? null,
    vatId: org.vatId,
    monthlyResetDate: org.monthlyResetDate,
    usage: {
      executions: { used: Number(u!.runs), included: plan.includedExecutions, cap: plan.executionCap },
      tokens: { used: Number(u!.tokens), included: plan.includedTokens },
      apiCalls: Number(u!.api),
      seats: { used: Number(u!.seats), included: plan.seats },
      modelCost: u!.cost,
    },
    estimate: { subtotal: estimate.subtotal, lines: estimate.lines.length },
  };
}

/** Billing email, address and VAT id (null clears one); returns before and after for the audit row. */
export async function updateBillingSettings(tx: Tx, organizationId: string, body: BillingSettingsBody) {
  const [before] = await tx.select().from(organizations).where(eq(organizations.id, organizationId));
  if (!before) throw notFound('organization');
  const values: Partial<typeof organizations.$inferInsert> = { updatedAt: new Date() };
  if (body.billingEmail !== undefined) values.billingEmail = body.billingEmail;
  if (body.billingAddress !== undefined) values.billingAddress = body.billingAddress;
  if (body.vatId !== undefined) values.vatId = body.vatId;
  const [after] = await tx
    .update(organizations)
    .set(values)
    .where(eq(organizations.id, organizationId))
    .returning();
  const view = (o: typeof before) => ({
    billingEmail: o.billingEmail,
    billingAddress: o.billingAddress,
    vatId: o.vatId,
  });
  return { before: view(before), after: view(after!) };
}

/**
 * Changes the tier at once: the plan's quota applies now, and the change is written to the ledger so the
 * period's invoice prorates the plan fee by day (see README, "Proration").
 */
export async function changePlan(tx: Tx, organizationId: string, tierName: string, at = new Date()) {
  const plan = planFor(tierName);
  if (!plan) throw notFound('plan', tierName);
  const [before] = await tx.select().from(organizations).where(eq(organizations.id, organizationId));
  if (!before) throw notFound('organization');
  if (before.subscriptionTier === plan.tier)
    return { from: before.subscriptionTier, to: plan.tier, changed: false };
  await tx
    .update(organizations)
    .set({
      subscriptionTier: plan.tier as PlanTier,
      monthlyExecutionQuota: MONTHLY_EXECUTION_QUOTA[plan.tier],
      updatedAt: at,
    })
    .where(eq(organizations.id, organizationId));
  await recordPlanChange(tx, organizationId, before.subscriptionTier, plan.tier, at);
  return { from: before.subscriptionTier, to: plan.tier, changed: true };
}
