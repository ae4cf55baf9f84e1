import type { Plan } from '@aiops/core';
import type { InvoiceLine } from '@aiops/db';
import { Decimal } from 'decimal.js';

/**
 * Invoice arithmetic, exact with decimal.js. Rounding (documented in the README): every line amount is
 * rounded once to the cent, half up (ROUND_HALF_UP); the subtotal is the sum of the rounded lines; tax is
 * subtotal × rate rounded to the cent, half up; total = subtotal + tax. Quantities are never rounded.
 */
const D = Decimal.clone({ precision: 40, rounding: Decimal.ROUND_HALF_UP });
export const cents = (v: Decimal.Value) => new D(v).toDecimalPlaces(2, D.ROUND_HALF_UP);

export interface PlanSegment {
  plan: Plan;
  /** First and last day (inclusive, ISO dates) this plan was in force within the period. */
  from: string;
  to: string;
}

export interface InvoiceInputs {
  periodStart: string;
  periodEnd: string;
  /** Plans in force during the period, in order (proration by UTC day). */
  segments: PlanSegment[];
  executions: number;
  /** Model tokens that count against the allowance (cached responses excluded). */
  tokens: number;
  purchases: { description: string; amount: string }[];
  tax: { rate: string; name: string; reverseCharge: boolean; country: string | null };
  vatId: string | null;
}

export interface InvoiceAmounts {
  lines: InvoiceLine[];
  subtotal: string;
  taxRate: string;
  tax: string;
  total: string;
  taxNote: string | null;
}

const days = (from: string, to: string) => Math.round((Date.parse(to) - Date.parse(from)) / 86_400_000) + 1;

/**
 * The invoice of one period. The plan fee is prorated by day: each segment pays
 * price × days on that plan / days in the period. Allowances and overage prices are those of the plan
 * in force at the end of the period (the last segment).
 */
export function computeInvoice(input: InvoiceInputs): InvoiceAmounts {
  const lines: InvoiceLine[] = [];
  const periodDays = days(input.periodStart, input.periodEnd);
  for (const s of input.segments) {
    const n = days(s.from, s.to);
    const full = n === periodDays;
    const amount = cents(new D(s.plan.monthlyPrice).mul(n).div(periodDays));
    lines.push({
      kind: full ? 'plan' : 'proration',
      description: full
        ? `${s.plan.name} plan, ${input.periodStart} to ${input.periodEnd}`
        : `${s.plan.name} plan, ${s.from} to ${s.to} (${n} of ${periodDays} days)`,
      quantity: full ? '1' : `${n}/${periodDays}`,
      unitPrice: new D(s.plan.monthlyPrice).toFixed(2),
      amount: amount.toFixed(2),
    });
  }
  const plan = input.segments.at(-1)!.plan;
  const overRuns = Math.max(0, input.executions - plan.includedExecutions);
  if (overRuns > 0 && new D(plan.executionOveragePrice).gt(0)) {
    lines.push({
      kind: 'overage',
      description: `Workflow runs above the ${plan.includedExecutions.toLocaleString('en-US')} included`,
      quantity: String(overRuns),
      unitPrice: plan.executionOveragePrice,
      amount: cents(new D(plan.executionOveragePrice).mul(overRuns)).toFixed(2),
    });
  }
  const overTokens = Math.max(0, input.tokens - plan.includedTokens);
  if (overTokens > 0) {
    lines.push({
      kind: 'tokens',
      description: `Model tokens above the ${plan.includedTokens.toLocaleString('en-US')} included (per 1,000)`,
      quantity: String(overTokens),
      unitPrice: plan.tokenOveragePricePer1k,
      amount: cents(new D(plan.tokenOveragePricePer1k).mul(overTokens).div(1000)).toFixed(2),
    });
  }
  for (const p of input.purchases) {
    lines.push({
      kind: 'marketplace',
      description: p.description,
      quantity: '1',
      unitPrice: cents(p.amount).toFixed(2),
      amount: cents(p.amount).toFixed(2),
    });
  }
  const subtotal = lines.reduce((sum, l) => sum.plus(l.amount), new D(0));
  const reverse = input.tax.reverseCharge && !!input.vatId;
  const rate = reverse ? new D(0) : new D(input.tax.rate);
  const tax = cents(subtotal.mul(rate));
  const taxNote = reverse
    ? `Reverse charge: VAT to be accounted for by the recipient (VAT id ${input.vatId}), Article 196 Council Directive 2006/112/EC.`
    : rate.gt(0)
      ? `${input.tax.name} ${rate.mul(100).toString()}% (${input.tax.country})`
      : null;
  return {
    lines,
    subtotal: subtotal.toFixed(2),
    taxRate: rate.toFixed(4),
    tax: tax.toFixed(2),
    total: subtotal.plus(tax).toFixed(2),
    taxNote,
  };
}
