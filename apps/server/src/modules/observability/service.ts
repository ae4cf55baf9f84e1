import type { SpanDto, TraceDto, TraceSummaryDto } from '@aiops/contracts';
import { notFound, parseTraceparent } from '@aiops/core';
import { queryRows, type Tx } from '@aiops/db';
import * as engine from '@aiops/engine';
import { type SQL, sql } from 'drizzle-orm';
import type { FastifyRequest } from 'fastify';
import { tenant } from '../../http/tenant.ts';

/**
 * A run's trace position from the caller's `traceparent` header: the run joins the caller's trace, its
 * span a child of the caller's span. Anything a body's metadata says about traces is dropped.
 */
export function traceMetadata(
  request: FastifyRequest,
  metadata: Record<string, unknown> | undefined,
): Record<string, unknown> | undefined {
  const header = request.headers.traceparent;
  const parent = parseTraceparent(typeof header === 'string' ? header : undefined);
  if (!parent && !metadata) return undefined;
  const { trace: _t, traceLink: _l, ...rest } = metadata ?? {};
  return parent ? { ...rest, trace: { traceId: parent.traceId, parentSpanId: parent.spanId } } : rest;
}

export function runLogs(
  request: FastifyRequest,
  runId: string,
  q: {
    level?: string | undefined;
    stepId?: string | undefined;
    q?: string | undefined;
    cursor?: string | undefined;
    limit: number;
  },
) {
  return tenant(request, (tx) =>
    engine.runLogs(tx, runId, {
      ...(q.level ? { levels: q.level.split(',') } : {}),
      ...(q.stepId ? { stepId: q.stepId } : {}),
      ...(q.q ? { q: q.q } : {}),
      ...(q.cursor ? { cursor: q.cursor } : {}),
      limit: q.limit,
    }),
  ) as Promise<{ logs: never[]; nextCursor: string | null }>;
}

/** A span tree as a depth-first list (what a waterfall draws), each with its depth and child count. */
export function flatten(roots: engine.TraceSpan[]): SpanDto[] {
  const out: SpanDto[] = [];
  const walk = (s: engine.TraceSpan, depth: number) => {
    const { children, ...rest } = s;
    out.push({ ...rest, depth, childCount: children.length });
    for (const c of children) walk(c, depth + 1);
  };
  for (const r of roots) walk(r, 0);
  return out;
}

export async function runTrace(request: FastifyRequest, runId: string): Promise<TraceDto> {
  const t = await tenant(request, (tx) => engine.runTrace(tx, runId));
  return {
    traceId: t.traceId,
    runId: t.runId,
    rootSpanId: t.root.spanId,
    spans: flatten([t.root, ...t.orphans]),
  };
}

/** A whole trace by id: the runs in it (with their engine spans) and spans ingested over OTLP. */
export async function traceById(request: FastifyRequest, traceId: string): Promise<TraceDto> {
  return tenant(request, async (tx) => {
    const runIds = await queryRows<{ id: string }>(
      tx,
      sql`SELECT id FROM workflow_executions
          WHERE id = ${uuidOf(traceId)}::uuid OR metadata->'trace'->>'traceId' = ${traceId}
          ORDER BY created_at LIMIT 50`,
    );
    const roots: engine.TraceSpan[] = [];
    let runId: string | null = null;
    for (const r of runIds) {
      const t = await engine.runTrace(tx, r.id);
      if (t.traceId !== traceId) continue;
      runId ??= r.id;
      roots.push(t.root, ...t.orphans);
    }
    const ingested = await queryRows<Parameters<typeof engine.spanOf>[0]>(
      tx,
      sql`SELECT trace_id, span_id, parent_span_id, name, kind, status, status_message, start_time, end_time,
                 duration_ms::text AS duration_ms, node_id, attempt, model, input_tokens, output_tokens,
                 total_tokens, cost::text AS cost, input, output, attributes, links, resource, service_name,
                 NULL AS step_input, NULL AS step_output
          FROM spans WHERE trace_id = ${traceId} AND workflow_execution_id IS NULL
          ORDER BY start_time LIMIT 5000`,
    );
    const all = [...flattenTree(roots), ...ingested.map(engine.spanOf)];
    if (!all.length) throw notFound('Trace', traceId);
    for (const s of all) s.children = [];
    const tree = engine.nest(all);
    return { traceId, runId, rootSpanId: tree[0]!.spanId, spans: flatten(tree) };
  });
}

function flattenTree(roots: engine.TraceSpan[]): engine.TraceSpan[] {
  return roots.flatMap((r) => [r, ...flattenTree(r.children)]);
}

const uuidOf = (hex: string) =>
  `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;

export interface TraceListQuery {
  source?: 'run' | 'otlp' | undefined;
  name?: string | undefined;
  status?: 'ok' | 'error' | 'unset' | 'running' | undefined;
  model?: string | undefined;
  minCost?: number | undefined;
  minDurationMs?: number | undefined;
  tag?: string | undefined;
  q?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
  limit: number;
}

const like = (s: string) => `%${s.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

const RUN_STATUS: Record<string, SQL> = {
  ok: sql`r.status = 'completed'`,
  error: sql`r.status IN ('failed', 'timeout')`,
  unset: sql`r.status = 'cancelled'`,
  running: sql`r.status IN ('queued', 'pending', 'running', 'paused')`,
};

/** Runs and ingested traces, newest first, with the filters of the Traces page. */
export function listTraces(request: FastifyRequest, q: TraceListQuery): Promise<TraceSummaryDto[]> {
  return tenant(request, async (tx) => {
    const [runs, ingested] = await Promise.all([
      q.source === 'otlp' ? [] : listRunTraces(tx, q),
      q.source === 'run' ? [] : listIngestedTraces(tx, q),
    ]);
    return [...runs, ...ingested].sort((a, b) => b.startTime.localeCompare(a.startTime)).slice(0, q.limit);
  });
}

interface SummaryRow {
  trace_id: string;
  run_id: string | null;
  name: string;
  status: string;
  service_name: string | null;
  start_time: string;
  duration_ms: string | null;
  total_tokens: string | null;
  cost: string | null;
  models: string[] | null;
}

const summary =
  (source: 'run' | 'otlp') =>
  (r: SummaryRow): TraceSummaryDto => ({
    traceId: r.trace_id,
    source,
    runId: r.run_id,
    name: r.name,
    status: r.status,
    serviceName: r.service_name,
    startTime: new Date(r.start_time).toISOString(),
    durationMs: r.duration_ms === null ? null : Number(r.duration_ms),
    totalTokens: r.total_tokens === null ? null : Number(r.total_tokens),
    cost: r.cost,
    models: r.models ?? [],
  });

async function listRunTraces(tx: Tx, q: TraceListQuery): Promise<TraceSummaryDto[]> {
  const where: SQL[] = [sql`true`];
  if (q.name) where.push(sql`w.name ILIKE ${like(q.name)}`);
  if (q.status) where.push(RUN_STATUS[q.status]!);
  if (q.minCost !== undefined) where.push(sql`r.estimated_cost >= ${q.minCost}::numeric`);
  if (q.minDurationMs !== undefined) where.push(sql`r.duration_ms >= ${q.minDurationMs}::numeric`);
  if (q.from) where.push(sql`r.created_at >= ${q.from}::timestamptz`);
  if (q.to) where.push(sql`r.created_at < ${q.to}::timestamptz`);
  if (q.tag) where.push(sql`r.metadata->'tags' ? ${q.tag}`);
  if (q.model)
    where.push(
      sql`EXISTS (SELECT 1 FROM agent_executions a WHERE a.workflow_execution_id = r.id AND a.model ILIKE ${like(q.model)})`,
    );
  if (q.q)
    where.push(sql`(w.name ILIKE ${like(q.q)} OR r.id::text = ${q.q.toLowerCase()} OR r.error_message ILIKE ${like(q.q)}
      OR coalesce(r.metadata->'trace'->>'traceId', replace(r.id::text, '-', '')) = ${q.q.toLowerCase()})`);
  const rows = await queryRows<SummaryRow>(
    tx,
    sql`SELECT coalesce(r.metadata->'trace'->>'traceId', replace(r.id::text, '-', '')) AS trace_id, r.id AS run_id,
               w.name, CASE WHEN r.status = 'completed' THEN 'ok' WHEN r.status IN ('failed', 'timeout') THEN 'error'
                            WHEN r.status = 'cancelled' THEN 'unset' ELSE 'running' END AS status,
               NULL AS service_name, coalesce(r.started_at, r.created_at) AS start_time, r.duration_ms::text AS duration_ms,
               r.total_tokens_used::text AS total_tokens, r.estimated_cost::text AS cost,
               (SELECT array_agg(DISTINCT a.model) FROM agent_executions a
                 WHERE a.workflow_execution_id = r.id AND a.model IS NOT NULL) AS models
        FROM workflow_executions r JOIN workflows w ON w.id = r.workflow_id
        WHERE ${sql.join(where, sql` AND `)}
        ORDER BY r.created_at DESC LIMIT ${q.limit}`,
  );
  return rows.map(summary('run'));
}

async function listIngestedTraces(tx: Tx, q: TraceListQuery): Promise<TraceSummaryDto[]> {
  const where: SQL[] = [sql`s.parent_span_id IS NULL`, sql`s.source = 'otlp'`];
  if (q.name) where.push(sql`s.name ILIKE ${like(q.name)}`);
  if (q.status === 'running') where.push(sql`false`);
  else if (q.status) where.push(sql`s.status = ${q.status}`);
  if (q.minDurationMs !== undefined) where.push(sql`s.duration_ms >= ${q.minDurationMs}::numeric`);
  if (q.from) where.push(sql`s.start_time >= ${q.from}::timestamptz`);
  if (q.to) where.push(sql`s.start_time < ${q.to}::timestamptz`);
  if (q.tag) where.push(sql`EXISTS (SELECT 1 FROM jsonb_each_text(s.attributes) e WHERE e.value = ${q.tag})`);
  if (q.q)
    where.push(sql`(s.name ILIKE ${like(q.q)} OR s.trace_id = ${q.q.toLowerCase()} OR s.service_name ILIKE ${like(q.q)}
      OR s.status_message ILIKE ${like(q.q)})`);
  const having: SQL[] = [];
  if (q.model) having.push(sql`bool_or(t.model ILIKE ${like(q.model)})`);
  if (q.minCost !== undefined) having.push(sql`coalesce(sum(t.cost), 0) >= ${q.minCost}::numeric`);
  const rows = await queryRows<SummaryRow>(
    tx,
    sql`SELECT s.trace_id, NULL AS run_id, s.name, s.status, s.service_name, s.start_time,
               s.duration_ms::text AS duration_ms, agg.total_tokens, agg.cost, agg.models
        FROM spans s
        CROSS JOIN LATERAL (
          SELECT sum(t.total_tokens)::text AS total_tokens, sum(t.cost)::text AS cost,
                 array_remove(array_agg(DISTINCT t.model), NULL) AS models
          FROM spans t WHERE t.organization_id = s.organization_id AND t.trace_id = s.trace_id
          ${having.length ? sql`HAVING ${sql.join(having, sql` AND `)}` : sql``}
        ) agg
        WHERE ${sql.join(where, sql` AND `)}
        ORDER BY s.start_time DESC LIMIT ${q.limit}`,
  );
  return rows.map(summary('otlp'));
}

/** A run's log lines as events of its event stream (`GET /runs/:id/events?logs=true`). */
export async function logEvents(tx: Tx, runId: string, since?: Date): Promise<engine.RunEvent[]> {
  const lines = await engine.runLogsSince(tx, runId, since);
  return lines.map((l) => ({
    id: `log:${l.id}`,
    type: 'log' as engine.RunEventType,
    at: l.at,
    ...(l.nodeId ? { nodeId: l.nodeId } : {}),
    data: {
      level: l.level,
      message: l.message,
      context: l.context,
      attempt: l.attempt,
      spanId: l.spanId,
      traceId: l.traceId,
    },
  }));
}
