import { describe, expect, it } from 'vitest';
import { bucketLabel, fillBuckets } from './stats.ts';

describe('overview buckets', () => {
  it('fills the window with empty buckets around the ones that have runs', () => {
    const filled = fillBuckets({
      from: '2026-01-01T10:20:00.000Z',
      to: '2026-01-01T13:05:00.000Z',
      bucket: 'hour',
      series: [
        {
          at: '2026-01-01T11:00:00Z',
          runs: 2,
          completed: 1,
          failed: 1,
          finished: 2,
          p95DurationMs: 900,
          tokens: 40,
          cost: 0.01,
        },
      ],
    });
    expect(filled.map((b) => [b.at, b.runs])).toEqual([
      ['2026-01-01T10:00:00Z', 0],
      ['2026-01-01T11:00:00Z', 2],
      ['2026-01-01T12:00:00Z', 0],
      ['2026-01-01T13:00:00Z', 0],
    ]);
    expect(bucketLabel('2026-01-01T13:00:00Z', 'hour')).toBe('13:00');
    expect(bucketLabel('2026-01-01T00:00:00Z', 'day')).toBe('01-01');
  });
});
