import { type Database, queryRows, type Tx } from '@aiops/db';
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
 * Rebuilds the hourly rollup rows of [from, to) from the raw samples (`agent_metric_samples`: the samples
 * derived from attempt rows, and the quality scores stored in `agent_metrics`): DELETE then INSERT … SELECT
 * grouped by hour, metric and dimensions, with count, exact numeric sum, min, max and the log histogram.
 * Idempotent, so a retried or overlapping run gives the same rows.
 */
export async function rebuildHourly(tx: Tx, from: Date, to: Date): Promise<void> {
  const table = 'agent_metrics_hourly';
  const unit = sql.raw(`'hour'`);
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
        FROM agent_metric_samples m CROSS JOIN LATERAL (VALUES ${UNPIVOT}) AS v(metric, num)
        WHERE m.recorded_at >= ${from.toISOString()}::timestamptz AND m.recorded_at < ${to.toISOString()}::timestamptz
          AND v.num IS NOT NULL) b
      GROUP BY GROUPING SETS (
        (organization_id, bucket, metric, agent_id, model, workflow_id, tool, key),
        (organization_id, bucket, metric, agent_id, key),
        (organization_id, bucket, metric, key))) k
    GROUP BY organization_id, grain, bucket, metric, agent_id, model, workflow_id, tool`);
}

/**
 * Rebuilds the daily rollup rows of [from, to) by merging the hourly rows of those days: counts and sums
 * added, min of mins, max of maxes, histograms added key by key (`jsonb_each`). Cheaper than the raw
 * samples (one row per hour and group instead of one per attempt), and equal to them.
 */
export async function rebuildDaily(tx: Tx, from: Date, to: Date): Promise<void> {
  const range = sql`bucket >= ${from.toISOString()}::timestamptz AND bucket < ${to.toISOString()}::timestamptz`;
  const groupKey = sql.raw(
    `organization_id, grain, day, metric, coalesce(agent_id, '00000000-0000-0000-0000-000000000000'::uuid) AS agent_key, agent_id, model, coalesce(workflow_id, '00000000-0000-0000-0000-000000000000'::uuid) AS workflow_key, workflow_id, tool`,
  );
  await tx.execute(sql`DELETE FROM agent_metrics_daily WHERE ${range}`);
  await tx.execute(sql`
    INSERT INTO agent_metrics_daily (organization_id, grain, bucket, metric, agent_id, model, workflow_id, tool, count,
      sum, min, max, hist)
    WITH h AS (
      SELECT ${groupKey}, count, sum, min, max, hist
      FROM (SELECT *, date_trunc('day', bucket, 'UTC') AS day FROM agent_metrics_hourly WHERE ${range}) x),
    s AS (
      SELECT organization_id, grain, day, metric, agent_key, agent_id, model, workflow_key, workflow_id, tool,
        sum(count) AS count, sum(sum) AS sum, min(min) AS min, max(max) AS max
      FROM h GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10),
    k AS (
      SELECT organization_id, grain, day, metric, agent_key, model, workflow_key, tool, e.key, sum(e.value::bigint) AS n
      FROM h, jsonb_each_text(h.hist) e GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9),
    j AS (
      SELECT organization_id, grain, day, metric, agent_key, model, workflow_key, tool, jsonb_object_agg(key, n) AS hist
      FROM k GROUP BY 1, 2, 3, 4, 5, 6, 7, 8)
    SELECT s.organization_id, s.grain, s.day, s.metric, s.agent_id, s.model, s.workflow_id, s.tool, s.count, s.sum,
      s.min, s.max, j.hist
    FROM s JOIN j USING (organization_id, grain, day, metric, agent_key, model, workflow_key, tool)`);
}

const floorTo = (t: number, unit: number) => Math.floor(t / unit) * unit;
/** The hourly catch-up goes this many hours per transaction, so a backlog never holds the database long. */
const CHUNK = 6 * HOUR;

async function setReach(tx: Tx, name: 'hourly' | 'daily', until: Date): Promise<void> {
  await tx.execute(sql`INSERT INTO agent_metric_rollup_state (name, until)
    VALUES (${name}, ${until.toISOString()}::timestamptz)
    ON CONFLICT (name) DO UPDATE SET until = greatest(agent_metric_rollup_state.until, excluded.until)`);
}

const reachOf = async (tx: Tx, name: string) => {
  const [row] = await queryRows<{ until: string | Date }>(
    tx,
    sql`SELECT until FROM agent_metric_rollup_state WHERE name = ${name}`,
  );
  return row ? new Date(row.until) : null;
};

const LOCK = sql`SELECT pg_advisory_xact_lock(hashtext('aiops_agent_metric_rollups'))`;

/**
 * Brings the rollups up to the last closed hour and day before `now`. Hourly: from (previous reach − 1 h
 * overlap, for samples committed late) to the closed hour, six hours per transaction, each moving the reach
 * with its rows (queries see rollups and reach change together). Daily: the closed days since (previous
 * reach − 1 day), merged from the hourly rows. First run: from the oldest raw sample.
 */
export async function rollUpAgentMetrics(db: Database, now: Date): Promise<{ hourly: Date; daily: Date }> {
  const closedHour = new Date(floorTo(now.getTime() - SETTLE_MS, HOUR));
  const closedDay = new Date(floorTo(closedHour.getTime(), DAY));
  const { hourly, daily, oldest } = await db.system(async (tx) => {
    const hourly = await reachOf(tx, 'hourly');
    const daily = await reachOf(tx, 'daily');
    // The oldest sample, for a first run only: both tables' time indexes are BRIN, which cannot answer a
    // min() without reading the table.
    const [row] =
      hourly && daily
        ? []
        : await queryRows<{ t: string | Date | null }>(
            tx,
            sql`SELECT least((SELECT min(recorded_at) FROM agent_metrics),
                             (SELECT min(created_at) FROM agent_executions)) AS t`,
          );
    return { hourly, daily, oldest: row?.t ? new Date(row.t) : null };
  });
  const first = (unit: number, reachTo: Date) =>
    oldest ? new Date(Math.min(floorTo(oldest.getTime(), unit), reachTo.getTime())) : reachTo;
  let from = hourly ? new Date(hourly.getTime() - OVERLAP.hourly) : first(HOUR, closedHour);
  while (from < closedHour) {
    const to = new Date(Math.min(from.getTime() + CHUNK, closedHour.getTime()));
    await db.system(async (tx) => {
      await tx.execute(LOCK);
      await rebuildHourly(tx, from, to);
      await setReach(tx, 'hourly', to);
    });
    from = to;
  }
  const dayFrom = daily ? new Date(daily.getTime() - OVERLAP.daily) : first(DAY, closedDay);
  await db.system(async (tx) => {
    await tx.execute(LOCK);
    if (dayFrom < closedDay) await rebuildDaily(tx, dayFrom, closedDay);
    await setReach(tx, 'daily', closedDay);
    await setReach(tx, 'hourly', closedHour);
  });
  return db.system(async (tx) => ({
    hourly: (await reachOf(tx, 'hourly')) ?? closedHour,
    daily: (await reachOf(tx, 'daily')) ?? closedDay,
  }));
}

/** Every 15 minutes: rollups of the hours (and days) that closed since the last run. */
export const rollupAgentMetricsJob: ScheduledJob = {
  name: 'observability.rollup-agent-metrics',
  cron: '*/15 * * * *',
  leaseMs: 15 * 60_000,
  run: async (ctx) => {
    const reach = await rollUpAgentMetrics(ctx.db, ctx.dueAt);
    ctx.log.info({ job: 'observability.rollup-agent-metrics', ...reach }, 'agent metric rollups updated');
  },
};
