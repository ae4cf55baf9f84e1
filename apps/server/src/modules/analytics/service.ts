import type { AnalyticsOverview } from '@aiops/contracts';
import { AppError } from '@aiops/core';
import { queryRows } from '@aiops/db';
import { sql } from 'drizzle-orm';
import type { FastifyRequest } from 'fastify';
import { authOf } from '../../http/auth.ts';
import { tenant } from '../../http/tenant.ts';

const MAX_WINDOW_MS = 366 * 86_400_000;

interface Row {
  at: string | Date | null;
  runs: number;
  completed: number;
  failed: number;
  finished: number;
  p95: number | string | null;
  tokens: number | string;
  cost: number | string;
}

const figures = (r: Row) => ({
  runs: r.runs,
  completed: r.completed,
  failed: r.failed,
  finished: r.finished,
  p95DurationMs: r.p95 === null ? null : Math.round(Number(r.p95)),
  tokens: Number(r.tokens),
  cost: Number(r.cost),
});

/**
 * Run figures of a window, in one pass per query over the org's (organization_id, created_at) index:
 * totals, and the same per UTC hour or day. The tenant transaction's RLS scopes it to the caller's org.
 */
export async function overview(
  request: FastifyRequest,
  q: { from: string; to?: string | undefined; bucket: 'hour' | 'day'; workflowId?: string | undefined },
): Promise<AnalyticsOverview> {
  const from = new Date(q.from);
  const to = q.to ? new Date(q.to) : new Date();
  if (to <= from || to.getTime() - from.getTime() > MAX_WINDOW_MS) {
    throw new AppError(
      400,
      'validation_failed',
      'Invalid request: querystring.to: must be after from, within 366 days',
      {
        details: { issues: [{ path: 'querystring.to', message: 'must be after from, within 366 days' }] },
      },
    );
  }
  const orgId = authOf(request).organizationId;
  const select = sql`
    count(*)::int AS runs,
    (count(*) FILTER (WHERE status = 'completed'))::int AS completed,
    (count(*) FILTER (WHERE status IN ('failed', 'timeout')))::int AS failed,
    (count(*) FILTER (WHERE status IN ('completed', 'failed', 'timeout', 'cancelled')))::int AS finished,
    percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms)
      FILTER (WHERE status IN ('completed', 'failed', 'timeout', 'cancelled')) AS p95,
    coalesce(sum(total_tokens_used), 0)::float8 AS tokens,
    coalesce(sum(estimated_cost), 0)::float8 AS cost`;
  const where = sql`organization_id = ${orgId} AND created_at >= ${from.toISOString()}::timestamptz
    AND created_at < ${to.toISOString()}::timestamptz
    ${q.workflowId ? sql`AND workflow_id = ${q.workflowId}` : sql``}`;
  const unit = q.bucket === 'hour' ? sql.raw(`'hour'`) : sql.raw(`'day'`);
  const [totals, series] = await tenant(request, async (tx) => [
    await queryRows<Row>(tx, sql`SELECT NULL AS at, ${select} FROM workflow_executions WHERE ${where}`),
    await queryRows<Row>(
      tx,
      sql`SELECT to_char(date_trunc(${unit}, created_at AT TIME ZONE 'UTC'), 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS at,
        ${select} FROM workflow_executions WHERE ${where} GROUP BY 1 ORDER BY 1`,
    ),
  ]);
  const t = figures(totals[0]!);
  return {
    from: from.toISOString(),
    to: to.toISOString(),
    bucket: q.bucket,
    totals: { ...t, successRate: t.finished ? t.completed / t.finished : null },
    series: series.map((r) => ({ at: String(r.at), ...figures(r) })),
  };
}
