import {
  AGENT_METRIC_UNITS,
  type AgentMetricStats,
  type AgentMetrics,
  type AgentMetricsQuery,
} from '@aiops/contracts';
import { validationFailed } from '@aiops/core';
import { queryRows, type Tx } from '@aiops/db';
import { Decimal } from 'decimal.js';
import { type SQL, sql } from 'drizzle-orm';
import { METRIC_COLUMN } from './columns.ts';
import { type Histogram, mergeHistogram, quantiles } from './sketch.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const MAX_DAYS = { hour: 31, day: 731 } as const;

interface Part {
  count: number;
  sum: Decimal;
  min: number | null;
  max: number | null;
  /** Null until the first source; a lone source's histogram is shared (not copied) until a second arrives. */
  hist: Histogram | null;
  shared: boolean;
}

const emptyPart = (): Part => ({
  count: 0,
  sum: new Decimal(0),
  min: null,
  max: null,
  hist: null,
  shared: false,
});

function add(
  into: Part,
  r: { count: number; sum: string | Decimal; min: number; max: number; hist: Histogram },
) {
  into.count += Number(r.count);
  into.sum = into.sum.plus(r.sum);
  into.min = into.min === null ? Number(r.min) : Math.min(into.min, Number(r.min));
  into.max = into.max === null ? Number(r.max) : Math.max(into.max, Number(r.max));
  if (into.hist === null) {
    into.hist = r.hist;
    into.shared = true;
  } else {
    if (into.shared) {
      into.hist = mergeHistogram({}, into.hist);
      into.shared = false;
    }
    mergeHistogram(into.hist, r.hist);
  }
}

function statsOf(p: Part, minutes: number): AgentMetricStats {
  const [p50, p95, p99] = quantiles(p.hist ?? {}, [0.5, 0.95, 0.99], p.min ?? 0, p.max ?? 0);
  const sum = p.sum.toNumber();
  return {
    count: p.count,
    sum,
    avg: p.count ? p.sum.div(p.count).toNumber() : null,
    min: p.min,
    max: p.max,
    p50: p50 ?? null,
    p95: p95 ?? null,
    p99: p99 ?? null,
    countPerMinute: p.count / minutes,
    sumPerMinute: sum / minutes,
  };
}

const iso = (d: Date) => d.toISOString().replace('.000Z', 'Z');
const floorTo = (t: number, unit: number) => Math.floor(t / unit) * unit;

/** The window rounded out to whole buckets, checked against the interval's limit. */
export function windowOf(q: Pick<AgentMetricsQuery, 'from' | 'to' | 'interval'>, now = new Date()) {
  const rawFrom = new Date(q.from).getTime();
  const rawTo = q.to ? new Date(q.to).getTime() : now.getTime();
  if (rawTo <= rawFrom)
    throw validationFailed('Invalid request: querystring.to: must be after from', [
      { path: 'querystring.to', message: 'must be after from' },
    ]);
  const interval = q.interval ?? (rawTo - rawFrom <= 2 * DAY ? 'hour' : 'day');
  const unit = interval === 'hour' ? HOUR : DAY;
  const from = floorTo(rawFrom, unit);
  const to = Math.ceil(rawTo / unit) * unit;
  if (to - from > MAX_DAYS[interval] * DAY)
    throw validationFailed(
      `Invalid request: querystring.from: a window by ${interval} spans at most ${MAX_DAYS[interval]} days; narrow it${interval === 'hour' ? ' or use interval=day' : ''}`,
      [{ path: 'querystring.from', message: `at most ${MAX_DAYS[interval]} days by ${interval}` }],
    );
  return { from: new Date(from), to: new Date(to), interval, unit } as const;
}

/**
 * One metric over a window: whole days from the daily rollups (interval day), then whole hours from the
 * hourly rollups, then the raw samples after the rollups' reach; each part merged per output bucket
 * (counts, exact decimal sums, min, max, histograms). `rawOnly` answers from the raw samples alone (tests
 * compare both). Runs in the caller's tenant transaction, so RLS scopes every read to its organization.
 */
export async function queryAgentMetrics(
  tx: Tx,
  organizationId: string,
  q: AgentMetricsQuery,
  options: { rawOnly?: boolean; now?: Date } = {},
): Promise<AgentMetrics> {
  const w = windowOf(q, options.now);
  const unitSql = sql.raw(`'${w.interval}'`);
  const dims = sql.join(
    [
      sql`organization_id = ${organizationId}`,
      q.agentId ? sql`agent_id = ${q.agentId}` : undefined,
      q.model ? sql`model = ${q.model}` : undefined,
      q.workflowId ? sql`workflow_id = ${q.workflowId}` : undefined,
      q.tool ? sql`tool = ${q.tool}` : undefined,
    ].filter((c): c is SQL => c !== undefined),
    sql` AND `,
  );
  const state = options.rawOnly
    ? []
    : await queryRows<{ name: string; until: string | Date }>(
        tx,
        sql`SELECT name, until FROM agent_metric_rollup_state`,
      );
  const reach = (name: string) => {
    const r = state.find((s) => s.name === name);
    return r ? new Date(r.until) : null;
  };
  const hourlyUntil = reach('hourly');
  const dailyUntil = reach('daily');

  const byAt = new Map<string, Part>();
  const part = (key: string) => {
    const p = byAt.get(key) ?? emptyPart();
    byAt.set(key, p);
    return p;
  };
  // The coarsest rollup grain that still answers the filters.
  const grain = q.model || q.workflowId || q.tool ? 'full' : q.agentId ? 'agent' : 'org';
  const unit = w.interval === 'hour' ? HOUR : DAY;
  // Every source of the window in one statement (daily rows, hourly rows, raw samples after the rollups'
  // reach), each as lines of one text value (epoch seconds, count, sum, min, max, histogram) rather than
  // rows: PGlite's per-row and per-jsonb decoding cost more than the query itself (an agent's month by
  // hour is 720 rows), and each statement is a round trip.
  const sources: SQL[] = [];
  const rollup = (table: 'agent_metrics_hourly' | 'agent_metrics_daily', from: Date, to: Date) =>
    sources.push(
      sql`SELECT ${sql.raw(String(sources.length))} AS source, extract(epoch FROM bucket)::bigint AS t, count, sum, min, max,
          hist::text AS h
        FROM ${sql.raw(table)}
        WHERE ${dims} AND grain = ${grain} AND metric = ${q.metric} AND bucket >= ${from.toISOString()}::timestamptz
          AND bucket < ${to.toISOString()}::timestamptz`,
    );

  let cursor = w.from;
  if (!options.rawOnly && w.interval === 'day' && dailyUntil && dailyUntil > cursor) {
    const end = new Date(Math.min(dailyUntil.getTime(), w.to.getTime()));
    rollup('agent_metrics_daily', cursor, end);
    cursor = end;
  }
  if (!options.rawOnly && hourlyUntil && hourlyUntil > cursor && cursor < w.to) {
    const end = new Date(Math.min(hourlyUntil.getTime(), w.to.getTime()));
    rollup('agent_metrics_hourly', cursor, end);
    cursor = end;
  }
  if (cursor < w.to) {
    const col = sql.raw(METRIC_COLUMN[q.metric]);
    sources.push(
      sql`SELECT ${sql.raw(String(sources.length))} AS source, t, count(*) AS count, sum(num) AS sum, min(num::float8) AS min,
          max(num::float8) AS max, json_build_object(key, count(*))::text AS h
        FROM (SELECT extract(epoch FROM date_trunc(${unitSql}, recorded_at, 'UTC'))::bigint AS t,
                ${col}::numeric AS num, aiops_metric_key(${col}::float8) AS key
              FROM agent_metric_samples WHERE ${dims} AND ${col} IS NOT NULL
                AND recorded_at >= ${cursor.toISOString()}::timestamptz
                AND recorded_at < ${w.to.toISOString()}::timestamptz) s
        GROUP BY t, key`,
    );
  }
  const [row] = sources.length
    ? await queryRows<{ rows: string | null }>(
        tx,
        sql`SELECT string_agg(concat_ws(' ', t, count, sum, min, max, h), E'\n' ORDER BY source) AS rows
          FROM (${sql.join(
            sources.map((x) => sql`(${x})`),
            sql` UNION ALL `,
          )}) s`,
      )
    : [];
  for (const line of row?.rows ? row.rows.split('\n') : []) {
    const f: string[] = [];
    let start = 0;
    for (let i = 0; i < 5; i++) {
      const end = line.indexOf(' ', start);
      f.push(line.slice(start, end));
      start = end + 1;
    }
    add(part(iso(new Date(floorTo(Number(f[0]) * 1000, unit)))), {
      count: Number(f[1]),
      sum: f[2]!,
      min: Number(f[3]),
      max: Number(f[4]),
      hist: JSON.parse(line.slice(start)) as Histogram,
    });
  }

  const total = emptyPart();
  const series = [...byAt.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([key, p]) => {
      if (p.hist) add(total, { count: p.count, sum: p.sum, min: p.min ?? 0, max: p.max ?? 0, hist: p.hist });
      return { at: key, ...statsOf(p, w.unit / 60_000) };
    });
  return {
    metric: q.metric,
    unit: AGENT_METRIC_UNITS[q.metric],
    agentId: q.agentId ?? null,
    from: iso(w.from),
    to: iso(w.to),
    interval: w.interval,
    totals: statsOf(total, (w.to.getTime() - w.from.getTime()) / 60_000),
    series,
    rollups: {
      hourlyUntil: hourlyUntil ? iso(hourlyUntil) : null,
      dailyUntil: dailyUntil ? iso(dailyUntil) : null,
    },
  };
}
