import type { UsageReport } from '../../api/types.ts';

/** Share of an allowance used, 0–100 (an allowance of 0 or more than a billion shows no share). */
export function share(used: number, included: number | null): number | null {
  if (!included || included <= 0 || included >= 1_000_000_000) return null;
  return Math.min(100, Math.round((used / included) * 100));
}

export interface DayPoint {
  day: string;
  label: string;
  runs: number;
  tokens: number;
  apiCalls: number;
}

/** The ledger grouped by day (and type) as one point per day of the period, empty days included. */
export function dailyPoints(report: UsageReport | undefined, start: string, end: string): DayPoint[] {
  const points = new Map<string, DayPoint>();
  for (let t = Date.parse(`${start}T00:00:00Z`); t <= Date.parse(`${end}T00:00:00Z`); t += 86_400_000) {
    const day = new Date(t).toISOString().slice(0, 10);
    points.set(day, { day, label: day.slice(5), runs: 0, tokens: 0, apiCalls: 0 });
  }
  for (const g of report?.groups ?? []) {
    const p = g.key ? points.get(g.key) : undefined;
    if (!p) continue;
    if (g.type === 'workflow_execution') p.runs += g.quantity;
    else if (g.type === 'tokens') p.tokens += g.quantity;
    else if (g.type === 'api_call') p.apiCalls += g.quantity;
  }
  return [...points.values()];
}

/** A whole number with thousands separators; allowances of a billion or more read "unlimited". */
export function amount(n: number | null): string {
  if (n === null || n >= 1_000_000_000) return 'unlimited';
  return n.toLocaleString('en-US');
}
