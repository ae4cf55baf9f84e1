import type { CostReport, Organization, PriceOverrideInput } from '../../../api/types.ts';

export const COST_GROUPS = [
  'workflow',
  'agent',
  'model',
  'day',
] as const satisfies readonly CostReport['groupBy'][];

/** The budget field's text → the PATCH value: empty clears the budget (null); otherwise a number ≥ 0. */
export function parseBudget(text: string): { value: number | null } | { error: string } {
  const t = text.trim().replace(/^\$/, '').replaceAll(',', '');
  if (t === '') return { value: null };
  if (!/^\d+(\.\d{1,2})?$/.test(t)) return { error: 'A budget is an amount in USD, e.g. 250 or 99.50.' };
  const value = Number(t);
  if (value > 100_000_000) return { error: 'At most 100,000,000 USD.' };
  return { value };
}

export const budgetText = (budget: number | null): string => (budget === null ? '' : String(budget));

/** The month at a glance: share of the execution quota and of the budget used (0–100, or null). */
export function monthSummary(org: Organization) {
  const pct = (used: number, of: number) => (of > 0 ? Math.min(100, Math.round((used / of) * 100)) : null);
  const budget = org.settings.monthlyBudgetUsd;
  return {
    executionsPct: pct(org.monthlyExecutionsUsed, org.monthlyExecutionQuota),
    budgetPct: budget === null ? null : pct(org.monthlyCost, budget),
    remainingUsd: budget === null ? null : Math.max(0, budget - org.monthlyCost),
    overBudget: budget !== null && org.monthlyCost >= budget,
  };
}

/** The first column of a cost row: the workflow / agent name, the model id or the day. */
export function groupLabel(group: CostReport['groups'][number], groupBy: CostReport['groupBy']): string {
  if (groupBy === 'day' || groupBy === 'model') return group.key ?? '(none)';
  if (group.name) return group.name;
  if (group.key) return `deleted ${groupBy} ${group.key.slice(0, 8)}`;
  return groupBy === 'agent' ? '(agent defined in the workflow)' : '(none)';
}

export interface OverrideForm {
  model: string;
  input: string;
  output: string;
  effectiveFrom: string;
  note: string;
}

export const today = (now = new Date()) => now.toISOString().slice(0, 10);

export const emptyOverride = (now = new Date()): OverrideForm => ({
  model: '',
  input: '',
  output: '',
  effectiveFrom: today(now),
  note: '',
});

const DECIMAL = /^\d{1,9}(\.\d{1,12})?$/;

/** The POST /prices body of the override form, or what to fix. */
export function overrideBody(form: OverrideForm): { body: PriceOverrideInput } | { error: string } {
  const model = form.model.trim();
  if (!/^[a-z0-9][a-z0-9_-]*:\S+$/.test(model))
    return { error: 'The model is provider:model, e.g. openai:gpt-4o-mini (or openai:* for all).' };
  const input = form.input.trim();
  const output = form.output.trim();
  if (!DECIMAL.test(input) || !DECIMAL.test(output))
    return { error: 'Prices are USD per million tokens, e.g. 0.15.' };
  if (!/^\d{4}-\d{2}-\d{2}$/.test(form.effectiveFrom)) return { error: 'Give the first day it applies.' };
  const body: PriceOverrideInput = { model, input, output, effectiveFrom: form.effectiveFrom };
  if (form.note.trim()) body.note = form.note.trim();
  return { body };
}

interface DatedPrice {
  model: string;
  effectiveFrom: string;
  effectiveTo?: string | undefined;
}

/**
 * One price per model: the one in force on `day` (else the latest), so a model whose price changed is
 * listed once, with its period.
 */
export function currentPrices<P extends DatedPrice>(catalog: readonly P[], day: string): P[] {
  const byModel = new Map<string, P>();
  for (const p of catalog) {
    const held = byModel.get(p.model);
    const inForce = (x: P) => x.effectiveFrom <= day && (!x.effectiveTo || x.effectiveTo > day);
    if (
      !held ||
      (inForce(p) && !inForce(held)) ||
      (inForce(p) === inForce(held) && p.effectiveFrom > held.effectiveFrom)
    )
      byModel.set(p.model, p);
  }
  return [...byModel.values()];
}

/** `since 2025-01-01`, or `2024-06-01 – 2025-01-01`. */
export function pricePeriod(p: DatedPrice): string {
  return p.effectiveTo ? `${p.effectiveFrom} – ${p.effectiveTo}` : `since ${p.effectiveFrom}`;
}
