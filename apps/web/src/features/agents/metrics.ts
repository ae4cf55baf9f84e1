import type { AgentMetrics } from '../../api/types.ts';

type Point = AgentMetrics['series'][number];
const STEP = { hour: 3_600_000, day: 86_400_000 } as const;

/**
 * One chart row per bucket of the window (empty buckets included, so the x axis is time), with the
 * figures of each metric's answer under its own prefix: `latency_p95`, `tokens_sum`, `error_avg`, …
 */
export function chartRows(
  answers: Record<string, AgentMetrics | undefined>,
): Record<string, number | string | null>[] {
  const any = Object.values(answers).find((a) => a !== undefined);
  if (!any) return [];
  const rows: Record<string, number | string | null>[] = [];
  const index = new Map<number, Record<string, number | string | null>>();
  for (let t = new Date(any.from).getTime(); t < new Date(any.to).getTime(); t += STEP[any.interval]) {
    const iso = new Date(t).toISOString();
    const row: Record<string, number | string | null> = {
      at: iso,
      label: any.interval === 'hour' ? `${iso.slice(5, 10)} ${iso.slice(11, 13)}:00` : iso.slice(5, 10),
    };
    rows.push(row);
    index.set(t, row);
  }
  for (const [metric, answer] of Object.entries(answers)) {
    for (const p of answer?.series ?? []) {
      const row = index.get(new Date(p.at).getTime());
      if (!row) continue;
      for (const k of ['p50', 'p95', 'p99', 'sum', 'avg', 'count'] as const)
        row[`${metric}_${k}`] = (p as Point)[k];
    }
  }
  return rows;
}
