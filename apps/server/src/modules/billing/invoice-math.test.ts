import { PLANS } from '@aiops/core';
import { describe, expect, it } from 'vitest';
import { DEFAULT_RATE_LIMITS } from '../../http/rate-limit.ts';
import { computeInvoice } from './invoice-math.ts';

const base = {
  periodStart: '2026-01-01',
  periodEnd: '2026-01-31',
  executions: 0,
  tokens: 0,
  purchases: [],
  tax: { rate: '0', name: 'Tax', reverseCharge: false, country: null },
  vatId: null,
};

describe('invoice arithmetic (decimal.js, cents half up per line, tax on the subtotal)', () => {
  it('a month with overages, tokens and a purchase, taxed at 19 %', () => {
    const r = computeInvoice({
      ...base,
      segments: [{ plan: PLANS.professional, from: '2026-01-01', to: '2026-01-31' }],
      executions: 10_500,
      tokens: 20_500_000,
      purchases: [{ description: 'Marketplace: Triage v1', amount: '9.99' }],
      tax: { rate: '0.1900', name: 'USt', reverseCharge: true, country: 'DE' },
    });
    expect(r.lines.map((l) => [l.kind, l.quantity, l.amount])).toEqual([
      ['plan', '1', '49.00'],
      ['overage', '500', '2.50'],
      ['tokens', '500000', '1.50'],
      ['marketplace', '1', '9.99'],
    ]);
    expect(r).toMatchObject({ subtotal: '62.99', tax: '11.97', total: '74.96', taxRate: '0.1900' });
    expect(r.taxNote).toBe('USt 19% (DE)');
  });

  it('reverse charge for a business customer with a VAT id: no tax, and the note says why', () => {
    const r = computeInvoice({
      ...base,
      segments: [{ plan: PLANS.business, from: '2026-01-01', to: '2026-01-31' }],
      tax: { rate: '0.2000', name: 'TVA', reverseCharge: true, country: 'FR' },
      vatId: 'FR40303265045',
    });
    expect(r).toMatchObject({ subtotal: '199.00', tax: '0.00', total: '199.00', taxRate: '0.0000' });
    expect(r.taxNote).toMatch(/Reverse charge.*FR40303265045/);
    // the same customer without a VAT id pays French VAT
    const b2c = computeInvoice({
      ...base,
      segments: [{ plan: PLANS.business, from: '2026-01-01', to: '2026-01-31' }],
      tax: { rate: '0.2000', name: 'TVA', reverseCharge: true, country: 'FR' },
    });
    expect(b2c).toMatchObject({ tax: '39.80', total: '238.80' });
  });

  it('rounding: half up at the cent, once per line; exact decimals (no binary drift)', () => {
    // 1 run over at 0.005 = 0.005 → 0.01 (half up); 3 × 0.1 summed exactly
    const r = computeInvoice({
      ...base,
      segments: [{ plan: PLANS.professional, from: '2026-01-01', to: '2026-01-31' }],
      executions: 10_001,
      purchases: [
        { description: 'a', amount: '0.1' },
        { description: 'b', amount: '0.1' },
        { description: 'c', amount: '0.1' },
      ],
      tax: { rate: '0.0810', name: 'MWST', reverseCharge: false, country: 'CH' },
    });
    expect(r.lines[1]!.amount).toBe('0.01');
    expect(r.subtotal).toBe('49.31');
    // 49.31 × 0.081 = 3.99411 → 3.99
    expect(r.tax).toBe('3.99');
    // 0.125 of tax rounds up to 0.13: subtotal 1.25 at 10 %
    const t = computeInvoice({
      ...base,
      segments: [{ plan: PLANS.starter, from: '2026-01-01', to: '2026-01-31' }],
      purchases: [{ description: 'x', amount: '1.25' }],
      tax: { rate: '0.1000', name: 'GST', reverseCharge: false, country: 'AU' },
    });
    expect(t.tax).toBe('0.13');
  });

  it('proration by day: a change on the 11th pays 10/31 of the old plan and 21/31 of the new one', () => {
    const r = computeInvoice({
      ...base,
      segments: [
        { plan: PLANS.professional, from: '2026-01-01', to: '2026-01-10' },
        { plan: PLANS.business, from: '2026-01-11', to: '2026-01-31' },
      ],
    });
    // 49 × 10 / 31 = 15.806… → 15.81; 199 × 21 / 31 = 134.806… → 134.81
    expect(r.lines.map((l) => [l.kind, l.quantity, l.amount])).toEqual([
      ['proration', '10/31', '15.81'],
      ['proration', '21/31', '134.81'],
    ]);
    expect(r.subtotal).toBe('150.62');
  });
});

describe('plans as data', () => {
  it("rate limits come from the plans, and resources are seed 002's table exactly", () => {
    for (const t of ['starter', 'professional', 'business', 'enterprise'] as const)
      expect(DEFAULT_RATE_LIMITS.tiers[t]).toEqual(PLANS[t].rateLimits);
    expect(PLANS.starter.resources).toMatchObject({
      cpuLimit: 1,
      memoryLimitMb: 2048,
      networkIsolation: 'shared',
    });
    expect(PLANS.professional.resources).toMatchObject({
      cpuLimit: 4,
      memoryLimitMb: 8192,
      networkIsolation: 'shared',
    });
    expect(PLANS.enterprise.resources).toMatchObject({
      cpuLimit: 16,
      memoryLimitMb: 32768,
      networkIsolation: 'isolated',
    });
  });
});
