import { queryRows, type Tx } from '@aiops/db';
import { sql } from 'drizzle-orm';
import type { JobContext, ScheduledJob } from '../../jobs/types.ts';
import {
  DAYS_COLUMN,
  DEFAULT_DAYS,
  PARTITIONED_TABLES,
  type PartitionedTable,
  type RetentionKind,
} from './partitioned-tables.ts';
import { archivePartition, dropPartition, ensurePartitions, listPartitions } from './partitions.ts';

const DAY = 86_400_000;
/** Partitions kept ready ahead: this month and the next two. */
const MONTHS_AHEAD = 3;
const RUN_BATCH = 500;
const FINISHED = sql.raw(`('completed', 'failed', 'cancelled', 'timeout')`);

/** Each organization's period of a kind (its own, else the default), as a subquery `(id, days)`. */
const effective = (kind: RetentionKind) =>
  sql`(SELECT o.id, coalesce(r.${sql.raw(DAYS_COLUMN[kind])}, ${DEFAULT_DAYS[kind]}) AS days
       FROM organizations o LEFT JOIN organization_retention r ON r.organization_id = o.id)`;

/** The longest period of a kind any organization has (never below the default): partitions live this long. */
async function longest(tx: Tx, kind: RetentionKind): Promise<number> {
  const [row] = await queryRows<{ days: number }>(
    tx,
    sql`SELECT greatest(${DEFAULT_DAYS[kind]}, coalesce(max(${sql.raw(DAYS_COLUMN[kind])}), 0))::int AS days
        FROM organization_retention`,
  );
  return row!.days;
}

export interface RetentionReport {
  ensured: string[];
  archived: { partition: string; file: string; rows: number }[];
  deletedRows: Record<string, number>;
  deletedRuns: number;
}

/**
 * One pass of retention at `dueAt` (idempotent):
 * 1. every partitioned table gets its partitions for this month and the next two;
 * 2. a partition whose whole month is older than the longest period of its kind is written to the archive
 *    directory as gzip JSON lines, then dropped;
 * 3. rows older than their organization's own (shorter) period are deleted from the partitions kept,
 *    since a partition spans a month of every organization;
 * 4. hourly and daily agent metric rollups older than the organization's metrics period are deleted;
 * 5. finished runs older than the organization's executions period are deleted in batches (their steps and
 *    attempts go with them).
 */
export async function applyRetention(
  ctx: Pick<JobContext, 'db' | 'settings' | 'dueAt'> & { signal?: AbortSignal },
  tables: PartitionedTable[] = PARTITIONED_TABLES,
): Promise<RetentionReport> {
  const { db, dueAt } = ctx;
  const report: RetentionReport = { ensured: [], archived: [], deletedRows: {}, deletedRuns: 0 };
  const due = dueAt.toISOString();
  for (const t of tables) {
    report.ensured.push(...(await db.system((tx) => ensurePartitions(tx, t.table, dueAt, MONTHS_AHEAD))));
    const keepDays = await db.system((tx) => longest(tx, t.retention));
    const cutoff = dueAt.getTime() - keepDays * DAY;
    const expired = (await db.system((tx) => listPartitions(tx, t.table))).filter(
      (p) => p.to.getTime() <= cutoff,
    );
    for (const p of expired) {
      ctx.signal?.throwIfAborted();
      const archived = await archivePartition(db, ctx.settings.archiveDir, t.table, p.name, ctx.signal);
      await db.system((tx) => dropPartition(tx, t.table, p.name));
      report.archived.push({ partition: p.name, ...archived });
    }
    const deleted = await db.system((tx) =>
      queryRows<{ n: number }>(
        tx,
        sql`WITH d AS (DELETE FROM ${sql.raw(`"${t.table}"`)} x USING ${effective(t.retention)} e
              WHERE x.organization_id = e.id
                AND x.${sql.raw(`"${t.column}"`)} < ${due}::timestamptz - make_interval(days => e.days)
              RETURNING 1)
            SELECT count(*)::int AS n FROM d`,
      ),
    );
    report.deletedRows[t.table] = deleted[0]!.n;
  }
  for (const table of ['agent_metrics_hourly', 'agent_metrics_daily']) {
    const deleted = await db.system((tx) =>
      queryRows<{ n: number }>(
        tx,
        sql`WITH d AS (DELETE FROM ${sql.raw(table)} x USING ${effective('metrics')} e
              WHERE x.organization_id = e.id AND x.bucket < ${due}::timestamptz - make_interval(days => e.days)
              RETURNING 1)
            SELECT count(*)::int AS n FROM d`,
      ),
    );
    report.deletedRows[table] = deleted[0]!.n;
  }
  for (;;) {
    ctx.signal?.throwIfAborted();
    const [batch] = await db.system((tx) =>
      queryRows<{ n: number }>(
        tx,
        sql`WITH d AS (DELETE FROM workflow_executions WHERE id IN (
              SELECT w.id FROM workflow_executions w JOIN ${effective('executions')} e ON e.id = w.organization_id
              WHERE w.created_at < ${due}::timestamptz - make_interval(days => e.days) AND w.status IN ${FINISHED}
              LIMIT ${RUN_BATCH}) RETURNING 1)
            SELECT count(*)::int AS n FROM d`,
      ),
    );
    report.deletedRuns += batch!.n;
    if (batch!.n < RUN_BATCH) break;
  }
  return report;
}

/** Daily at 03:30 UTC: partitions ahead, expired ones archived and dropped, per-organization retention. */
export const retentionJob: ScheduledJob = {
  name: 'observability.retention',
  cron: '30 3 * * *',
  leaseMs: 60 * 60_000,
  run: async (ctx) => {
    const report = await applyRetention(ctx);
    ctx.log.info(
      {
        job: 'observability.retention',
        ensured: report.ensured.length,
        archived: report.archived.map((a) => ({ partition: a.partition, rows: a.rows })),
        deletedRows: report.deletedRows,
        deletedRuns: report.deletedRuns,
      },
      'retention applied',
    );
  },
};
