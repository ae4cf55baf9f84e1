import { describe, expect, it } from 'vitest';
import { amount, dailyPoints, share } from './billing.ts';

describe('billing page helpers', () => {
  it('share of an allowance, capped at 100, none for unlimited', () => {
    expect(share(250, 500)).toBe(50);
    expect(share(900, 500)).toBe(100);
    expect(share(5, 2_000_000_000)).toBeNull();
    expect(share(1, null)).toBeNull();
    expect(amount(2_000_000_000)).toBe('unlimited');
    expect(amount(10_000)).toBe('10,000');
  });

  it('one point per day of the period, summed by type', () => {
    const points = dailyPoints(
      {
        groupBy: 'day',
        from: '',
        to: '',
        total: { records: 0, quantity: 0, cost: '0', inputTokens: 0, outputTokens: 0, cachedTokens: 0 },
        groups: [
          {
            key: '2026-02-02',
            type: 'workflow_execution',
            records: 3,
            quantity: 3,
            cost: '0',
            inputTokens: 0,
            outputTokens: 0,
            cachedTokens: 0,
          },
          {
            key: '2026-02-02',
            type: 'tokens',
            records: 3,
            quantity: 120,
            cost: '0.1',
            inputTokens: 0,
            outputTokens: 0,
            cachedTokens: 0,
          },
        ],
      },
      '2026-02-01',
      '2026-02-28',
    );
    expect(points).toHaveLength(28);
    expect(points[1]).toMatchObject({ day: '2026-02-02', runs: 3, tokens: 120, apiCalls: 0 });
  });
});
