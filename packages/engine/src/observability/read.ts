import { AppError } from '@aiops/core';
import { queryRows, type Tx } from '@aiops/db';
import { type SQL, sql } from 'drizzle-orm';
import { getRun } from '../run-rows.ts';
import { modelSpanId, runSpanId, stepSpanId, traceIdOfRun } from './ids.ts';
import { runLogLines } from './lifecycle-lines.ts';

export const LEVELS = ['debug', 'info', 'warning', 'error', 'critical'] as const;

export interface LogLine {
  id: string;
  at: string;
  level: string;
  message: string;
  context: Record<string, unknown>;
  nodeId: string | null;
  stepId: string | null;
  attempt: number | null;
  traceId: string | null;
  spanId: string | null;
  parentSpanId: string | null;
  source: string;
}

export interface LogQuery {
  /** Only these levels. */
  levels?: string[];
  /** A step's id (uuid) or its node id. */
  stepId?: string;
  /** Full-text search on the message (websearch syntax: words, "phrases", -not, or). */
  q?: string;
  cursor?: string;
  limit?: number;
}

interface LogRow {
  id: string;
  at: string;
  created_at: string;
  level: string;
  message: string;
  context: Record<string, unknown>;
  node_id: string | null;
  run_step_id: string | null;
  attempt: number | null;
  trace_id: string | null;
  span_id: string | null;
  parent_span_id: string | null;
  source: string;
  /** A lifecycle line derived from its attempt row (lifecycle-lines.ts): its span is the attempt's. */
  derived: boolean;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const line = (r: LogRow): LogLine => ({
  id: r.id,
  at: r.at,
  level: r.level,
  message: r.message,
  context: r.context,
  nodeId: r.node_id,
  stepId: r.run_step_id,
  attempt: r.attempt,
  traceId: r.trace_id,
  spanId: r.derived && r.run_step_id && r.attempt !== null ? stepSpanId(r.run_step_id, r.attempt) : r.span_id,
  parentSpanId: r.parent_span_id,
  source: r.source,
});

const COLUMNS = sql`id, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS at, created_at::text AS created_at, level,
  message, context, node_id, run_step_id, attempt, trace_id, span_id, parent_span_id, source, derived`;

function decodeCursor(cursor: string): { at: string; id: string } {
  try {
    const [at, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
    if (at && id && UUID.test(id) && !Number.isNaN(Date.parse(at))) return { at, id };
  } catch {}
  throw new AppError(
    400,
    'invalid_cursor',
    'The cursor is not one this endpoint returned: omit it to start over',
    {
      retryable: false,
    },
  );
}

/** A run's log lines, oldest first, filtered, a page at a time (`nextCursor` while more remain). */
export async function runLogs(
  tx: Tx,
  runId: string,
  query: LogQuery = {},
): Promise<{ logs: LogLine[]; nextCursor: string | null }> {
  await getRun(tx, runId);
  const limit = Math.min(Math.max(query.limit ?? 100, 1), 500);
  const where: SQL[] = [sql`true`];
  if (query.levels?.length) where.push(sql`level = ANY(${`{${query.levels.join(',')}}`}::text[])`);
  if (query.stepId) {
    where.push(UUID.test(query.stepId) ? sql`run_step_id = ${query.stepId}` : sql`node_id = ${query.stepId}`);
  }
  if (query.q?.trim())
    where.push(sql`to_tsvector('simple', message) @@ websearch_to_tsquery('simple', ${query.q.trim()})`);
  if (query.cursor) {
    const c = decodeCursor(query.cursor);
    where.push(sql`(created_at, id) > (${c.at}::timestamptz, ${c.id}::uuid)`);
  }
  const rows = await queryRows<LogRow>(
    tx,
    sql`SELECT ${COLUMNS} FROM ${runLogLines(runId)} l WHERE ${sql.join(where, sql` AND `)}
        ORDER BY created_at, id LIMIT ${limit + 1}`,
  );
  const more = rows.length > limit;
  const page = more ? rows.slice(0, limit) : rows;
  const last = page.at(-1);
  return {
    logs: page.map(line),
    nextCursor: more && last ? Buffer.from(`${last.created_at}|${last.id}`).toString('base64url') : null,
  };
}

/**
 * Log lines that may have appeared since `since`: lines stamped since then, and the lines of attempts that
 * ended since then (an attempt's lines are written, or derived from its row, when it ends, stamped when they
 * happened).
 */
export async function runLogsSince(tx: Tx, runId: string, since?: Date): Promise<LogLine[]> {
  const rows = await queryRows<LogRow>(
    tx,
    sql`SELECT ${COLUMNS} FROM ${runLogLines(runId, since)} l ORDER BY created_at, id LIMIT 2000`,
  );
  return rows.map(line);
}

export interface TraceSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string | null;
  name: string;
  kind: string;
  status: string;
  statusMessage: string | null;
  startTime: string;
  endTime: string | null;
  durationMs: number | null;
  nodeId: string | null;
  attempt: number | null;
  model: string | null;
  inputTokens: number | null;
  outputTokens: number | null;
  totalTokens: number | null;
  /** USD, decimal string. */
  cost: string | null;
  input: unknown;
  output: unknown;
  attributes: Record<string, unknown>;
  links: { traceId: string; spanId: string; attributes?: Record<string, unknown> }[];
  children: TraceSpan[];
}

interface SpanRow {
  trace_id: string;
  span_id: string;
  parent_span_id: string | null;
  name: string;
  kind: string;
  status: string;
  status_message: string | null;
  start_time: string;
  end_time: string | null;
  duration_ms: string | null;
  node_id: string | null;
  attempt: number | null;
  model: string | null;
  input_tokens: number | null;
  output_tokens: number | null;
  total_tokens: number | null;
  cost: string | null;
  input: unknown;
  output: unknown;
  attributes: Record<string, unknown>;
  links: TraceSpan['links'] | null;
  step_input: unknown;
  step_output: unknown;
}

const iso = (t: string | Date | null) => (t === null ? null : new Date(t).toISOString());

export function spanOf(r: SpanRow): TraceSpan {
  return {
    traceId: r.trace_id,
    spanId: r.span_id,
    parentSpanId: r.parent_span_id,
    name: r.name,
    kind: r.kind,
    status: r.status,
    statusMessage: r.status_message,
    startTime: iso(r.start_time)!,
    endTime: iso(r.end_time),
    durationMs: r.duration_ms === null ? null : Number(r.duration_ms),
    nodeId: r.node_id,
    attempt: r.attempt,
    model: r.model,
    inputTokens: r.input_tokens,
    outputTokens: r.output_tokens,
    totalTokens: r.total_tokens,
    cost: r.cost,
    input: r.input ?? r.step_input ?? null,
    output: r.output ?? r.step_output ?? null,
    attributes: r.attributes ?? {},
    links: r.links ?? [],
    children: [],
  };
}

/** Nests spans under their parents (spans whose parent is not among them are roots), by start time. */
export function nest(spans: TraceSpan[]): TraceSpan[] {
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  const roots: TraceSpan[] = [];
  for (const s of spans) {
    const parent = s.parentSpanId ? byId.get(s.parentSpanId) : undefined;
    if (parent && parent !== s) parent.children.push(s);
    else roots.push(s);
  }
  const order = (list: TraceSpan[]) => {
    // By start; spans that start in the same microsecond by end (the earlier one ran first).
    list.sort(
      (a, b) => a.startTime.localeCompare(b.startTime) || (a.endTime ?? '~').localeCompare(b.endTime ?? '~'),
    );
    for (const s of list) order(s.children);
  };
  order(roots);
  return roots;
}

/**
 * A run's trace: the run's span (its `workflow_executions` row) with the spans of its step attempts,
 * model calls and tool calls nested under it. Step spans show the attempt's input and output; a
 * sub-workflow step's span names its child run and the child's trace; a child run's span links to the
 * parent step's span.
 */
export async function runTrace(tx: Tx, runId: string) {
  const run = await getRun(tx, runId);
  const meta = (run.metadata ?? {}) as {
    trace?: { traceId?: string; parentSpanId?: string };
    traceLink?: { traceId: string; spanId: string };
  };
  const traceId = meta.trace?.traceId ?? traceIdOfRun(run.id);
  const rootId = runSpanId(run.id);
  // Stored spans: model calls that failed, were several or used tools, tool and MCP calls.
  const rows = await queryRows<SpanRow>(
    tx,
    sql`SELECT trace_id, span_id, parent_span_id, name, kind, status, status_message, start_time, end_time,
               duration_ms::text AS duration_ms, node_id, attempt, model, input_tokens, output_tokens,
               total_tokens, cost::text AS cost, input, output, attributes, links,
               NULL AS step_input, NULL AS step_output
        FROM spans WHERE trace_id = ${traceId} AND workflow_execution_id = ${run.id}
        ORDER BY start_time LIMIT 5000`,
  );
  const stored = rows.map(spanOf);
  // Derived spans: each step attempt's (from its attempt row), and the only model call of an attempt
  // whose call was not stored; their ids are those the worker used.
  const attempts = await queryRows<AttemptSpanRow>(
    tx,
    sql`SELECT a.node_id, a.node_type, a.attempt, a.status, a.status_reason, a.started_at, a.completed_at,
               a.duration_ms, a.model, a.input_tokens, a.output_tokens, a.total_tokens,
               a.estimated_cost::text AS cost, a.input, a.output, a.error_details, a.agent_id, a.agent_version,
               a.cached, a.tokens_estimated, st.id AS step_id,
               (SELECT c.id FROM workflow_executions c WHERE c.parent_execution_id = a.workflow_execution_id
                  AND c.parent_step_id = st.id ORDER BY c.created_at DESC LIMIT 1) AS child_id
        FROM agent_executions a
        -- One probe of run_steps_run_node_key per attempt (see lifecycle-lines.ts).
        CROSS JOIN LATERAL (SELECT r.id FROM run_steps r WHERE r.run_id = a.workflow_execution_id
                            AND r.node_id = a.node_id LIMIT 1) st
        WHERE a.workflow_execution_id = ${run.id}
        ORDER BY a.started_at LIMIT 5000`,
  );
  const children = await queryRows<{ id: string; trace_id: string }>(
    tx,
    sql`SELECT id, coalesce(metadata->'trace'->>'traceId', replace(id::text, '-', '')) AS trace_id
        FROM workflow_executions WHERE parent_execution_id = ${run.id}`,
  );
  const [workflow] = await queryRows<{ name: string }>(
    tx,
    sql`SELECT name FROM workflows WHERE id = ${run.workflowId}`,
  );
  const spans: TraceSpan[] = [];
  for (const a of attempts) {
    const step = attemptSpan(a, traceId, rootId);
    const child = a.child_id ? children.find((c) => c.id === a.child_id) : undefined;
    if (child)
      Object.assign(step.attributes, {
        'aiops.child_run_id': child.id,
        'aiops.child_trace_id': child.trace_id,
      });
    spans.push(step);
    const hasModelSpan = stored.some((x) => x.parentSpanId === step.spanId && x.kind === 'model');
    if (a.node_type === 'agent' && a.model && a.status === 'completed' && !hasModelSpan)
      spans.push(modelSpan(a, step));
  }
  spans.push(...stored);
  const end = run.completedAt ?? null;
  const start = run.startedAt ?? run.createdAt;
  const root: TraceSpan = {
    traceId,
    spanId: rootId,
    parentSpanId: meta.trace?.parentSpanId ?? null,
    name: workflow ? `run ${workflow.name}` : `run ${run.id.slice(0, 8)}`,
    kind: 'run',
    status:
      run.status === 'completed' ? 'ok' : ['failed', 'timeout'].includes(run.status) ? 'error' : 'unset',
    statusMessage: run.errorMessage ?? null,
    startTime: start.toISOString(),
    endTime: end ? end.toISOString() : null,
    durationMs: end ? end.getTime() - start.getTime() : null,
    nodeId: null,
    attempt: null,
    model: null,
    inputTokens: Number(run.inputTokens),
    outputTokens: Number(run.outputTokens),
    totalTokens: Number(run.totalTokensUsed),
    cost: String(run.estimatedCost),
    input: run.inputData,
    output: run.outputData ?? null,
    attributes: {
      'aiops.run.id': run.id,
      'aiops.run.status': run.status,
      'aiops.workflow.id': run.workflowId,
      'aiops.workflow.version': run.workflowVersion,
      ...(run.parentExecutionId ? { 'aiops.parent_run_id': run.parentExecutionId } : {}),
    },
    links: meta.traceLink
      ? [{ ...meta.traceLink, attributes: { 'aiops.link': 'parent sub-workflow step' } }]
      : [],
    children: [],
  };
  const tree = nest([
    root,
    ...spans.map((s) => (s.parentSpanId === null ? { ...s, parentSpanId: rootId } : s)),
  ]);
  return {
    runId: run.id,
    traceId,
    spanCount: spans.length + 1,
    root: tree.find((s) => s === root) ?? root,
    orphans: tree.filter((s) => s !== root),
  };
}

interface AttemptSpanRow {
  node_id: string;
  node_type: string;
  attempt: number;
  status: string;
  status_reason: string | null;
  started_at: string | Date | null;
  completed_at: string | Date | null;
  duration_ms: number | null;
  model: string | null;
  input_tokens: number;
  output_tokens: number;
  total_tokens: number;
  cost: string | null;
  input: unknown;
  output: unknown;
  error_details: { code?: string } | null;
  agent_id: string | null;
  agent_version: number | null;
  cached: boolean;
  tokens_estimated: boolean;
  step_id: string;
  child_id: string | null;
}

const STEP_STATUS: Record<string, string> = { completed: 'ok', failed: 'error' };

function attemptSpan(a: AttemptSpanRow, traceId: string, parent: string): TraceSpan {
  const start = iso(a.started_at);
  const end = iso(a.completed_at);
  const model = a.node_type === 'agent';
  return {
    traceId,
    spanId: stepSpanId(a.step_id, a.attempt),
    parentSpanId: parent,
    name: `${a.node_type} ${a.node_id}`,
    kind: a.node_type === 'subworkflow' ? 'subworkflow' : 'step',
    status: STEP_STATUS[a.status] ?? 'unset',
    statusMessage: a.status === 'failed' ? a.status_reason : null,
    startTime: start ?? new Date().toISOString(),
    endTime: end,
    durationMs: start && end ? Date.parse(end) - Date.parse(start) : null,
    nodeId: a.node_id,
    attempt: a.attempt,
    model: a.model,
    inputTokens: model ? a.input_tokens : null,
    outputTokens: model ? a.output_tokens : null,
    totalTokens: model ? a.total_tokens : null,
    cost: model ? a.cost : null,
    input: a.input ?? null,
    output: a.output ?? null,
    attributes: {
      'aiops.node.type': a.node_type,
      'aiops.step.attempt': a.attempt,
      'aiops.step.outcome': a.status,
      ...(a.error_details?.code ? { 'error.type': a.error_details.code } : {}),
      ...(a.agent_id ? { 'aiops.agent.id': a.agent_id, 'aiops.agent.version': a.agent_version } : {}),
    },
    links: [],
    children: [],
  };
}

/** The only model call of an agent attempt, with the GenAI attributes, from the attempt row. */
function modelSpan(a: AttemptSpanRow, step: TraceSpan): TraceSpan {
  const requested = (a.input as { model?: string } | null)?.model ?? a.model!;
  const provider = requested.includes(':') ? requested.slice(0, requested.indexOf(':')) : requested;
  return {
    ...step,
    spanId: modelSpanId(a.step_id, a.attempt),
    parentSpanId: step.spanId,
    name: `chat ${requested}`,
    kind: 'model',
    attributes: {
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': provider,
      'gen_ai.request.model': requested,
      'gen_ai.response.model': a.model,
      'gen_ai.usage.input_tokens': a.input_tokens,
      'gen_ai.usage.output_tokens': a.output_tokens,
      'aiops.usage.estimated': a.tokens_estimated,
      'aiops.cost_usd': a.cost ?? '0',
      'aiops.cached': a.cached,
    },
    children: [],
  };
}
