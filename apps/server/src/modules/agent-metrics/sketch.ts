/**
 * Mergeable percentiles over rollups: a log-bucketed histogram in the manner of DDSketch. A value v > 0
 * falls in bucket k = ceil(ln v / ln γ) with γ = (1 + α) / (1 − α), α = 2%; every value of bucket k lies in
 * (γ^(k−1), γ^k], so answering 2γ^k / (γ + 1) is within α of any of them. Zeros count under "z". Merging
 * two histograms adds their counts per key, so hourly and daily rollups merge into any window exactly as
 * the raw samples would. The key is computed in SQL (`aiops_metric_key`, migration "agent_metrics").
 */
export const RELATIVE_ACCURACY = 0.02;
const GAMMA = (1 + RELATIVE_ACCURACY) / (1 - RELATIVE_ACCURACY);

export type Histogram = Record<string, number>;

/** Adds `from`'s counts into `into`. */
export function mergeHistogram(into: Histogram, from: Histogram): Histogram {
  for (const [k, n] of Object.entries(from)) into[k] = (into[k] ?? 0) + Number(n);
  return into;
}

const estimateOf = (key: string) => (key === 'z' ? 0 : (2 * GAMMA ** Number(key)) / (GAMMA + 1));
const order = (key: string) => (key === 'z' ? Number.NEGATIVE_INFINITY : Number(key));

/**
 * The q-quantile (0..1) of a histogram, clamped to the exact min and max (so p99 of one sample is that
 * sample). Nearest-rank on the sorted buckets: the bucket holding the ⌈q·n⌉-th smallest value.
 */
export function quantiles(hist: Histogram, qs: number[], min: number, max: number): (number | null)[] {
  const keys = Object.keys(hist).sort((a, b) => order(a) - order(b));
  const total = keys.reduce((a, k) => a + hist[k]!, 0);
  if (!total) return qs.map(() => null);
  return qs.map((q) => {
    const rank = Math.max(1, Math.ceil(q * total));
    let seen = 0;
    for (const k of keys) {
      seen += hist[k]!;
      if (seen >= rank) return Math.min(max, Math.max(min, estimateOf(k)));
    }
    return max;
  });
}
