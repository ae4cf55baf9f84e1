import { type SQL, sql } from 'drizzle-orm';

/** What an alert is about: one agent (external or internal), one workflow, or the whole organization. */
export interface Subject {
  type: 'agent' | 'workflow' | 'organization';
  id: string;
  organizationId: string;
}

/** Which of a subject's finished results a measure reads: the newest `last`, or those of the trailing window. */
export interface Slice {
  last?: number;
  windowMinutes?: number;
}

const since = (at: SQL, s: Slice) =>
  s.windowMinutes === undefined ? sql`` : sql`AND ${at} >= now() - make_interval(mins => ${s.windowMinutes})`;
const newest = (at: SQL, s: Slice) =>
  s.last === undefined ? sql`` : sql`ORDER BY ${at} DESC NULLS LAST, id DESC LIMIT ${s.last}`;

/**
 * The finished results a subject's conditions read, as one relation `r(id, at, failed, ok, duration_ms,
 * cost)` bounded by index (the slice is applied inside each source, so each reads only its newest rows or its
 * window):
 * - an agent: its logs (external agents, `idx_agent_logs_agent`), the finished attempts of workflow steps
 *   that ran it (internal agents, llm or code: `agent_executions`, `idx_agent_executions_agent`) and its
 *   calls outside workflows (conversation answers and tries: `agent_calls`, `idx_agent_calls_agent`); a
 *   warning log is neither failed nor ok; a failed attempt that is retried counts as a failure;
 * - a workflow or the organization: finished runs (a cancelled run is not a result).
 */
export function resultsOf(s: Subject, slice: Slice): SQL {
  if (s.type === 'agent') {
    const logAt = sql`created_at`;
    const stepAt = sql`completed_at`;
    const callAt = sql`created_at`;
    return sql`((SELECT id, created_at AS at, status = 'error' AS failed, status = 'success' AS ok, duration_ms,
                   0::numeric AS cost
                 FROM agent_logs WHERE agent_id = ${s.id}::uuid ${since(logAt, slice)} ${newest(logAt, slice)})
               UNION ALL
               (SELECT id, completed_at, status = 'failed', status = 'completed', duration_ms, estimated_cost
                 FROM agent_executions WHERE agent_id = ${s.id}::uuid AND status IN ('completed', 'failed')
                   ${since(stepAt, slice)} ${newest(stepAt, slice)})
               UNION ALL
               (SELECT id, created_at, status = 'failed', status = 'completed', duration_ms, cost
                 FROM agent_calls WHERE agent_id = ${s.id}::uuid ${since(callAt, slice)} ${newest(callAt, slice)})) r`;
  }
  const scope =
    s.type === 'workflow'
      ? sql`workflow_id = ${s.id}::uuid`
      : sql`organization_id = ${s.organizationId}::uuid`;
  const at = sql`completed_at`;
  return sql`(SELECT id, completed_at AS at, status IN ('failed', 'timeout') AS failed, status = 'completed' AS ok,
                duration_ms, estimated_cost AS cost
              FROM workflow_executions WHERE ${scope} AND status IN ('completed', 'failed', 'timeout')
                ${since(at, slice)} ${newest(at, slice)}) r`;
}

/**
 * The evaluation scores a subject's `eval_score` conditions read, of the trailing window: a workflow's are
 * those of its runs; an agent's those attached to its step attempts (`evaluation_results.agent_execution_id`,
 * as agent-attached evaluators and per-step scores write them); the organization's, all of them.
 */
export function scoresOf(s: Subject, windowMinutes: number, evaluator: string | null | undefined): SQL {
  const join =
    s.type === 'workflow'
      ? sql`JOIN workflow_executions e ON e.id = er.workflow_execution_id AND e.workflow_id = ${s.id}::uuid`
      : s.type === 'agent'
        ? sql`JOIN agent_executions x ON x.id = er.agent_execution_id AND x.agent_id = ${s.id}::uuid`
        : sql``;
  return sql`evaluation_results er ${join}
    WHERE er.organization_id = ${s.organizationId}::uuid
      AND er.created_at >= now() - make_interval(mins => ${windowMinutes})
      ${evaluator ? sql`AND er.evaluator_name = ${evaluator}` : sql``}`;
}
