import { describe, expect, it } from 'vitest';
import type { Organization } from '../../../api/types.ts';
import {
  currentPrices,
  emptyOverride,
  groupLabel,
  monthSummary,
  overrideBody,
  parseBudget,
  pricePeriod,
} from './usage.ts';

const org = (over: Partial<Organization> = {}, budget: number | null = null): Organization => ({
  id: '00000000-0000-4000-8000-000000000001',
  name: 'Ada Labs',
  slug: 'ada-labs',
  subscriptionTier: 'starter',
  status: 'active',
  billingEmail: null,
  monthlyExecutionQuota: 1000,
  monthlyExecutionsUsed: 250,
  monthlyCost: 12.5,
  monthlyResetDate: null,
  settings: { allowPrivateNetworks: false, monthlyBudgetUsd: budget },
  createdAt: '2026-01-01T00:00:00Z',
  updatedAt: '2026-01-01T00:00:00Z',
  ...over,
});

describe('budget field', () => {
  it('empty clears the budget; amounts with $ and commas are accepted; the rest is explained', () => {
    expect(parseBudget('  ')).toEqual({ value: null });
    expect(parseBudget('250')).toEqual({ value: 250 });
    expect(parseBudget('$1,500.50')).toEqual({ value: 1500.5 });
    expect(parseBudget('-3')).toHaveProperty('error');
    expect(parseBudget('ten')).toHaveProperty('error');
    expect(parseBudget('1.234')).toHaveProperty('error');
    expect(parseBudget('200000000')).toHaveProperty('error');
  });
});

describe('month summary', () => {
  it('shares of quota and budget, what is left, and over budget', () => {
    expect(monthSummary(org())).toEqual({
      executionsPct: 25,
      budgetPct: null,
      remainingUsd: null,
      overBudget: false,
    });
    expect(monthSummary(org({}, 50))).toMatchObject({ budgetPct: 25, remainingUsd: 37.5, overBudget: false });
    expect(monthSummary(org({ monthlyCost: 60 }, 50))).toMatchObject({
      budgetPct: 100,
      remainingUsd: 0,
      overBudget: true,
    });
    expect(monthSummary(org({ monthlyExecutionQuota: 0 }))).toMatchObject({ executionsPct: null });
  });
});

describe('cost rows', () => {
  const g = {
    name: null,
    cost: 0,
    inputTokens: 0,
    outputTokens: 0,
    totalTokens: 0,
    calls: 1,
    cachedCalls: 0,
    runs: 1,
  };
  it('names each group', () => {
    expect(groupLabel({ ...g, key: 'w1', name: 'triage' }, 'workflow')).toBe('triage');
    expect(groupLabel({ ...g, key: '0123456789abcdef' }, 'workflow')).toBe('deleted workflow 01234567');
    expect(groupLabel({ ...g, key: null }, 'agent')).toBe('(agent defined in the workflow)');
    expect(groupLabel({ ...g, key: 'openai:gpt-4o', name: 'openai:gpt-4o' }, 'model')).toBe('openai:gpt-4o');
    expect(groupLabel({ ...g, key: '2026-01-02' }, 'day')).toBe('2026-01-02');
  });
});

describe('price override form', () => {
  it('builds the body or says what to fix', () => {
    const base = { ...emptyOverride(new Date('2026-03-04T10:00:00Z')), model: 'openai:gpt-4o-mini' };
    expect(base.effectiveFrom).toBe('2026-03-04');
    expect(overrideBody({ ...base, input: '0.15', output: '0.6', note: ' negotiated ' })).toEqual({
      body: {
        model: 'openai:gpt-4o-mini',
        input: '0.15',
        output: '0.6',
        effectiveFrom: '2026-03-04',
        note: 'negotiated',
      },
    });
    expect(overrideBody({ ...base, model: 'gpt-4o', input: '1', output: '1' })).toHaveProperty('error');
    expect(overrideBody({ ...base, input: '-1', output: '1' })).toHaveProperty('error');
    expect(overrideBody({ ...base, input: '1', output: '' })).toHaveProperty('error');
  });
});

describe('price catalog', () => {
  const catalog = [
    { model: 'openai:gpt-4o', effectiveFrom: '2024-05-13', effectiveTo: '2024-08-06', input: '5' },
    { model: 'openai:gpt-4o', effectiveFrom: '2024-08-06', input: '2.5' },
    { model: 'openai:o1', effectiveFrom: '2024-12-05', input: '15' },
  ];
  it('lists each model once, with the price in force and its period', () => {
    const shown = currentPrices(catalog, '2025-01-01');
    expect(shown.map((p) => [p.model, p.input, pricePeriod(p)])).toEqual([
      ['openai:gpt-4o', '2.5', 'since 2024-08-06'],
      ['openai:o1', '15', 'since 2024-12-05'],
    ]);
    expect(pricePeriod(currentPrices(catalog, '2024-06-01')[0]!)).toBe('2024-05-13 – 2024-08-06');
  });
});
