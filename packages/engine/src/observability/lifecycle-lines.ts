import { type SQL, sql } from 'drizzle-orm';

/**
 * A run's log lines as one relation: the lines stored in `execution_logs` (what nodes, tools and model calls
 * said, and the lines of waiting attempts) and the two lifecycle lines of every ended attempt, derived from
 * its `agent_executions` row instead of stored beside it (issue 13: two rows of a partitioned table and a
 * statement less per step): "Step <type> <node> started (attempt n)" at its start, and at its end
 * "… completed in <ms> ms[: <model>, <in> in and <out> out tokens, $<cost>]", "… failed, retrying in <ms> ms:
 * <message>" (warning; the delay is kept in the row's `trace_data`), "… failed: <message>" (error, or
 * critical for a budget stop) or "… cancelled: <reason>" (warning). A derived line's id is fixed by its
 * attempt row (a cursor or an event stream sees the same id each time), its trace is the run's, and its span
 * the attempt's (`derived` is true: the reader sets `stepSpanId`, ids.ts, as everywhere else).
 *
 * `since`: only stored lines stamped since then or belonging to attempts that ended since then, and the
 * derived lines of attempts that ended since then (an attempt's lines are written when it ends).
 */
export function runLogLines(runId: string, since?: Date): SQL {
  const at = since?.toISOString();
  return sql`(
    SELECT l.id, l.created_at, l.level::text AS level, l.message, l.context, l.node_id::text AS node_id,
           l.run_step_id, l.attempt, l.trace_id::text AS trace_id, l.span_id::text AS span_id,
           l.parent_span_id::text AS parent_span_id, l.source::text AS source, false AS derived
    FROM execution_logs l WHERE l.workflow_execution_id = ${runId}
    ${
      at
        ? sql`AND (l.created_at >= ${at}::timestamptz OR EXISTS (
            SELECT 1 FROM agent_executions x WHERE x.workflow_execution_id = ${runId} AND x.node_id = l.node_id
              AND x.attempt = l.attempt AND x.completed_at >= ${at}::timestamptz))`
        : sql``
    }
    UNION ALL
    SELECT md5(a.id::text || d.k)::uuid, d.at, d.level, d.message, d.context, a.node_id::text, st.id, a.attempt,
           (SELECT coalesce(e.metadata->'trace'->>'traceId', replace(e.id::text, '-', ''))
            FROM workflow_executions e WHERE e.id = ${runId}),
           NULL, NULL, 'engine', true
    FROM agent_executions a
    -- The step by one probe of run_steps_run_node_key per attempt (LIMIT 1 keeps it a parameterized index
    -- scan: a plain join on a young table's statistics was planned as a scan of the run's steps per attempt).
    CROSS JOIN LATERAL (SELECT r.id FROM run_steps r WHERE r.run_id = a.workflow_execution_id AND r.node_id = a.node_id
                        LIMIT 1) st
    CROSS JOIN LATERAL (VALUES
      (':started', a.started_at, 'info',
       'Step ' || a.node_type || ' ' || a.node_id || ' started (attempt ' || a.attempt || ')', '{}'::jsonb),
      (':ended', a.completed_at,
       CASE WHEN a.status = 'completed' THEN 'info'
            WHEN a.status = 'cancelled' OR a.trace_data ? 'retryDelayMs' THEN 'warning'
            WHEN a.error_details->>'code' = 'budget_exceeded' THEN 'critical'
            ELSE 'error' END,
       'Step ' || a.node_type || ' ' || a.node_id || CASE
         WHEN a.status = 'completed' THEN ' completed in ' || coalesce(a.duration_ms, 0) || ' ms' ||
           CASE WHEN a.model IS NOT NULL OR a.total_tokens > 0
                THEN ': ' || coalesce(a.model, 'model') || ', ' || a.input_tokens || ' in and ' || a.output_tokens
                     || ' out tokens, $' || trim_scale(a.estimated_cost)
                ELSE '' END
         WHEN a.status = 'cancelled' THEN ' cancelled: ' || coalesce(a.status_reason, 'the run was stopped')
         WHEN a.trace_data ? 'retryDelayMs' THEN ' failed, retrying in ' || (a.trace_data->>'retryDelayMs')
           || ' ms: ' || coalesce(a.status_reason, 'unknown error')
         ELSE ' failed: ' || coalesce(a.status_reason, 'unknown error') END,
       CASE WHEN a.status = 'failed'
            THEN jsonb_strip_nulls(jsonb_build_object('code', a.error_details->>'code',
                                                      'retryDelayMs', a.trace_data->'retryDelayMs'))
            ELSE '{}'::jsonb END)
    ) d(k, at, level, message, context)
    WHERE a.workflow_execution_id = ${runId} AND d.at IS NOT NULL
      ${at ? sql`AND a.completed_at >= ${at}::timestamptz` : sql``}
  )`;
}
