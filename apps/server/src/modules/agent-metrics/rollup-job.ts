import { queryRows, type Tx } from '@aiops/db';
import { sql } from 'drizzle-orm';
import type { ScheduledJob } from '../../jobs/types.ts';
import { UNPIVOT } from './columns.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** An hour is rolled up once it ended this long ago (samples are stamped with their flush's now()). */
const SETTLE_MS = 2 * 60_000;
/** Each run rebuilds this much before the previous reach too, for samples committed late. */
const OVERLAP = { hourly: HOUR, daily: DAY };

/**
 * Rebuilds the `table` rollup rows of [from, to) from the raw samples: DELETE then INSERT … SELECT grouped
 * by bucket, metric and dimensions, with count, exact numeric sum, min, max and the log histogram.
 * Idempotent, so a retried or overlapping run gives the same rows.
 */
export async function rebuildRollups(
  tx: Tx,
  table: 'agent_metrics_hourly' | 'agent_metrics_daily',
  from: Date,
  to: Date,
): Promise<void> {
  const unit = sql.raw(table === 'agent_metrics_hourly' ? `'hour'` : `'day'`);
  await tx.execute(sql`DELETE FROM ${sql.raw(table)} WHERE bucket >= ${from.toISOString()}::timestamptz
    AND bucket < ${to.toISOString()}::timestamptz`);
  // Three grains in one pass (GROUPING SETS): full dimensions, per agent, per organization. The histogram
  // keys are grouped with each grain, so each grain's histogram merges exactly its own samples.
  await tx.execute(sql`
    INSERT INTO ${sql.raw(table)} (organization_id, grain, bucket, metric, agent_id, model, workflow_id, tool, count,
      sum, min, max, hist)
    SELECT organization_id, grain, bucket, metric, agent_id, coalesce(model, ''), workflow_id, coalesce(tool, ''),
      sum(n), sum(s), min(mn), max(mx), jsonb_object_agg(key, n)
    FROM (
      SELECT organization_id, bucket, metric, agent_id, model, workflow_id, tool, key, count(*) AS n, sum(num) AS s,
        min(num::float8) AS mn, max(num::float8) AS mx,
        CASE WHEN GROUPING(model) = 0 THEN 'full' WHEN GROUPING(agent_id) = 0 THEN 'agent' ELSE 'org' END AS grain
      FROM (
        SELECT m.organization_id, date_trunc(${unit}, m.recorded_at, 'UTC') AS bucket, v.metric, m.agent_id, m.model,
          m.workflow_id, m.tool, aiops_metric_key(v.num::float8) AS key, v.num
        FROM agent_metrics m CROSS JOIN LATERAL (VALUES ${UNPIVOT}) AS v(metric, num)
        WHERE m.recorded_at >= ${from.toISOString()}::timestamptz AND m.recorded_at < ${to.toISOString()}::timestamptz
          AND v.num IS NOT NULL) b
      GROUP BY GROUPING SETS (
        (organization_id, bucket, metric, agent_id, model, workflow_id, tool, key),
        (organization_id, bucket, metric, agent_id, key),
        (organization_id, bucket, metric, key))) k
    GROUP BY organization_id, grain, bucket, metric, agent_id, model, workflow_id, tool`);
}

const floorTo = (t: number, unit: number) => Math.floor(t / unit) * unit;

/**
 * Brings the hourly and daily rollups up to the last closed hour and day before `now`: each level from
 * (its previous reach − overlap) to the new reach, in one transaction with the new reach, so queries see
 * either the old or the new rollups and reach, never a mix. First run: from the oldest raw sample.
 */
export async function rollUpAgentMetrics(tx: Tx, now: Date): Promise<{ hourly: Date; daily: Date }> {
  const closedHour = new Date(floorTo(now.getTime() - SETTLE_MS, HOUR));
  const closedDay = new Date(floorTo(closedHour.getTime(), DAY));
  await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtext('aiops_agent_metric_rollups'))`);
  const state = await queryRows<{ name: string; until: string | Date }>(
    tx,
    sql`SELECT name, until FROM agent_metric_rollup_state`,
  );
  const [oldest] = await queryRows<{ t: string | Date | null }>(
    tx,
    sql`SELECT min(recorded_at) AS t FROM agent_metrics`,
  );
  const result = { hourly: closedHour, daily: closedDay };
  for (const [name, table, reachTo, unit] of [
    ['hourly', 'agent_metrics_hourly', closedHour, HOUR],
    ['daily', 'agent_metrics_daily', closedDay, DAY],
  ] as const) {
    const prev = state.find((s) => s.name === name);
    const start = prev
      ? new Date(new Date(prev.until).getTime() - OVERLAP[name])
      : oldest?.t
        ? new Date(floorTo(new Date(oldest.t).getTime(), unit))
        : reachTo;
    if (start < reachTo) await rebuildRollups(tx, table, start, reachTo);
    const until = prev && new Date(prev.until) > reachTo ? new Date(prev.until) : reachTo;
    result[name] = until;
    await tx.execute(sql`INSERT INTO agent_metric_rollup_state (name, until)
      VALUES (${name}, ${until.toISOString()}::timestamptz)
      ON CONFLICT (name) DO UPDATE SET until = excluded.until`);
  }
  return result;
}

/** Every 15 minutes: rollups of the hours (and days) that closed since the last run. */
export const rollupAgentMetricsJob: ScheduledJob = {
  name: 'observability.rollup-agent-metrics',
  cron: '*/15 * * * *',
  leaseMs: 15 * 60_000,
  run: async (ctx) => {
    const reach = await ctx.db.system((tx) => rollUpAgentMetrics(tx, ctx.dueAt));
    ctx.log.info({ job: 'observability.rollup-agent-metrics', ...reach }, 'agent metric rollups updated');
  },
};
