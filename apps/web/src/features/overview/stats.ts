import type { Run } from '../../api/types.ts';

/** Per-day figures of the overview: runs, successes, p95 duration, tokens and cost. */
export interface DayStats {
  day: string;
  runs: number;
  completed: number;
  failed: number;
  p95Ms: number | null;
  tokens: number;
  cost: number;
}

export function percentile(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length) - 1;
  return sorted[Math.max(0, Math.min(sorted.length - 1, rank))]!;
}

export function summarize(runs: Run[]) {
  const finished = runs.filter((r) => ['completed', 'failed', 'cancelled', 'timeout'].includes(r.status));
  const completed = finished.filter((r) => r.status === 'completed').length;
  const durations = finished.flatMap((r) => (r.durationMs === null ? [] : [r.durationMs]));
  const byDay = new Map<string, Run[]>();
  for (const r of runs) {
    const day = r.createdAt.slice(0, 10);
    byDay.set(day, [...(byDay.get(day) ?? []), r]);
  }
  const days: DayStats[] = [...byDay.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([day, rs]) => ({
      day,
      runs: rs.length,
      completed: rs.filter((r) => r.status === 'completed').length,
      failed: rs.filter((r) => r.status === 'failed' || r.status === 'timeout').length,
      p95Ms: percentile(
        rs.flatMap((r) => (r.durationMs === null ? [] : [r.durationMs])),
        95,
      ),
      tokens: rs.reduce((n, r) => n + r.tokens.total, 0),
      cost: rs.reduce((n, r) => n + r.cost, 0),
    }));
  return {
    runs: runs.length,
    successRate: finished.length ? completed / finished.length : null,
    p95Ms: percentile(durations, 95),
    tokens: runs.reduce((n, r) => n + r.tokens.total, 0),
    cost: runs.reduce((n, r) => n + r.cost, 0),
    days,
  };
}
