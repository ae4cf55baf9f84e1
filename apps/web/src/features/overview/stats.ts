import type { AnalyticsOverview } from '../../api/types.ts';

export type Bucket = AnalyticsOverview['series'][number];

const STEP = { hour: 3_600_000, day: 86_400_000 } as const;

/** Start of the UTC hour or day containing `t`. */
export function bucketStart(t: Date, bucket: 'hour' | 'day'): Date {
  const d = new Date(t);
  d.setUTCMinutes(0, 0, 0);
  if (bucket === 'day') d.setUTCHours(0);
  return d;
}

/** Every bucket of the window, empty ones included, so a chart's x axis is time and not just data. */
export function fillBuckets(o: Pick<AnalyticsOverview, 'from' | 'to' | 'bucket' | 'series'>): Bucket[] {
  const known = new Map(o.series.map((b) => [new Date(b.at).getTime(), b]));
  const out: Bucket[] = [];
  const end = new Date(o.to).getTime();
  for (let t = bucketStart(new Date(o.from), o.bucket).getTime(); t < end; t += STEP[o.bucket]) {
    out.push(
      known.get(t) ?? {
        at: new Date(t).toISOString().replace('.000Z', 'Z'),
        runs: 0,
        completed: 0,
        failed: 0,
        finished: 0,
        p95DurationMs: null,
        tokens: 0,
        cost: 0,
      },
    );
  }
  return out;
}

export function bucketLabel(at: string, bucket: 'hour' | 'day'): string {
  return bucket === 'hour' ? `${at.slice(11, 13)}:00` : at.slice(5, 10);
}
