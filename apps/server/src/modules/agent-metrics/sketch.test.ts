import { describe, expect, it } from 'vitest';
import { mergeHistogram, quantiles, RELATIVE_ACCURACY } from './sketch.ts';

const GAMMA = (1 + RELATIVE_ACCURACY) / (1 - RELATIVE_ACCURACY);
// The key aiops_metric_key computes in SQL.
const key = (v: number) => (v < 1e-9 ? 'z' : String(Math.ceil(Math.log(v) / Math.log(GAMMA))));

function histogram(values: number[]) {
  const h: Record<string, number> = {};
  for (const v of values) h[key(v)] = (h[key(v)] ?? 0) + 1;
  return h;
}

const exact = (sorted: number[], q: number) => sorted[Math.max(1, Math.ceil(q * sorted.length)) - 1]!;

describe('log-bucketed histogram', () => {
  it('answers p50/p95/p99 within 2% of the exact nearest-rank value, also after merging parts', () => {
    for (const spread of [1, 4, 9]) {
      const values = Array.from({ length: 5000 }, () => Math.exp(Math.random() * spread) * 17);
      const sorted = [...values].sort((a, b) => a - b);
      const merged = mergeHistogram(
        mergeHistogram({}, histogram(values.slice(0, 1234))),
        histogram(values.slice(1234)),
      );
      expect(merged).toEqual(histogram(values));
      const got = quantiles(merged, [0.5, 0.95, 0.99], sorted[0]!, sorted.at(-1)!);
      [0.5, 0.95, 0.99].forEach((q, i) => {
        const want = exact(sorted, q);
        expect(Math.abs(got[i]! - want) / want).toBeLessThanOrEqual(RELATIVE_ACCURACY + 1e-9);
      });
    }
  });

  it('handles zeros, a single sample and an empty histogram', () => {
    expect(quantiles({ z: 3, [key(5)]: 1 }, [0.5, 0.99], 0, 5)).toEqual([0, 5]);
    expect(quantiles({ [key(42)]: 1 }, [0.5], 42, 42)).toEqual([42]);
    expect(quantiles({}, [0.5], 0, 0)).toEqual([null]);
  });
});
