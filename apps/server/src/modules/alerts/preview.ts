import { queryRows, type Tx } from '@aiops/db';
import { sql } from 'drizzle-orm';
import type { FastifyRequest } from 'fastify';
import { authOf } from '../../http/auth.ts';
import { tenant } from '../../http/tenant.ts';
import { measure } from './evaluate.ts';
import type { PreviewBody } from './schemas.ts';

/** At most this many results of the last 7 days are replayed (newest kept). */
export const PREVIEW_MAX_RESULTS = 5000;
const DAY = 86_400_000;

export interface Result {
  key: string;
  at: number;
  failed: boolean;
  ok: boolean;
  durationMs: number | null;
  cost: number;
  /** eval_score: the evaluation score (0–100) this result is. */
  score?: number;
}

function p95(values: number[]): number {
  const v = [...values].sort((a, b) => a - b);
  // percentile_cont(0.95): linear interpolation between the closest ranks.
  const rank = 0.95 * (v.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return v[lo]! + (v[hi]! - v[lo]!) * (rank - lo);
}

/**
 * Replays results in time order through the condition, per subject, the way the live evaluator sees them
 * (each result re-measures the condition), and returns the times an alert would have opened.
 */
export function replay(results: Result[], c: PreviewBody['condition']): number[] {
  const fired: number[] = [];
  const bySubject = new Map<string, Result[]>();
  for (const r of results) bySubject.set(r.key, [...(bySubject.get(r.key) ?? []), r]);
  for (const series of bySubject.values()) {
    let open = false;
    let streak = 0;
    for (let i = 0; i < series.length; i++) {
      const r = series[i]!;
      let firing: boolean | null = null;
      if (c.kind === 'consecutive_failures') {
        streak = r.failed ? streak + 1 : 0;
        firing = streak >= c.count ? true : r.ok ? false : null;
      } else if (c.kind !== 'agent_offline' && c.kind !== 'budget') {
        const from = r.at - c.windowMinutes * 60_000;
        const win = series.slice(0, i + 1).filter((x) => x.at >= from);
        if (c.kind === 'error_rate' && win.length >= c.minSamples)
          firing = (win.filter((x) => x.failed).length / win.length) * 100 > c.threshold;
        if (c.kind === 'p95_latency') {
          const d = win.flatMap((x) => (x.durationMs === null ? [] : [x.durationMs]));
          if (d.length >= c.minSamples) firing = p95(d) > c.threshold;
        }
        if (c.kind === 'eval_score' && win.length >= c.minSamples)
          firing = win.reduce((s, x) => s + (x.score ?? 0), 0) / win.length < c.threshold;
        if (c.kind === 'cost') {
          const cost = win.reduce((s, x) => s + x.cost, 0);
          firing = cost <= c.threshold ? false : win.length >= c.minSamples ? true : null;
        }
      }
      if (firing === true && !open) fired.push(r.at);
      if (firing !== null) open = firing;
    }
  }
  return fired.sort((a, b) => a - b);
}

const unsupported = {
  supported: false as const,
  fired: 0,
  results: 0,
  subjects: 0,
  truncated: false,
  byDay: [] as { day: string; fired: number }[],
};

/** `POST /alerts/rules/preview`: how often the rule would have fired over the last 7 days. */
export function preview(request: FastifyRequest, body: PreviewBody) {
  return tenant(request, async (tx) => {
    const now = Date.now();
    if (body.condition.kind === 'agent_offline')
      return {
        ...unsupported,
        note: 'heartbeats are not kept as history, so a heartbeat rule cannot be replayed',
      };
    if (body.condition.kind === 'budget') {
      // The live evaluator's own measure, on the caller's organization now.
      const org = authOf(request).organizationId;
      const v = await measure(
        tx,
        { id: '', name: '', condition: body.condition },
        { type: 'organization', id: org, organizationId: org },
      );
      return {
        ...unsupported,
        note: `spend is kept as a month-to-date total, not as a history, so a budget rule cannot be replayed; now: ${v.reason} (${v.firing ? 'it would fire' : 'it would not fire'})`,
      };
    }
    const since = new Date(now - 7 * DAY);
    if (body.condition.kind === 'eval_score') return summarize(await scores(tx, body, since), body, since);
    const rows = await queryRows<{
      key: string;
      at: Date | string;
      status: string;
      duration_ms: number | null;
      cost: string | number | null;
    }>(
      tx,
      body.subjectType === 'agent'
        ? // The live evaluator's three sources (results.ts): external agents' logs, internal agents' step
          // attempts and their calls outside workflows (conversation answers, tries).
          sql`SELECT * FROM (
                (SELECT l.agent_id::text AS key, l.created_at AS at, l.status, l.duration_ms, 0::numeric AS cost
                 FROM agent_logs l WHERE l.created_at >= ${since}
                 ${body.agentId ? sql`AND l.agent_id = ${body.agentId}::uuid` : sql``}
                 ORDER BY l.created_at DESC LIMIT ${PREVIEW_MAX_RESULTS + 1})
                UNION ALL
                (SELECT a.agent_id::text, a.completed_at, a.status, a.duration_ms, a.estimated_cost
                 FROM agent_executions a WHERE a.completed_at >= ${since} AND a.status IN ('completed', 'failed')
                 -- Every agent: the organization's agents (RLS), each read by idx_agent_executions_agent.
                 AND a.agent_id = ${body.agentId ? sql`${body.agentId}::uuid` : sql`ANY (ARRAY(SELECT id FROM agents))`}
                 ORDER BY a.completed_at DESC LIMIT ${PREVIEW_MAX_RESULTS + 1})
                UNION ALL
                (SELECT k.agent_id::text, k.created_at, k.status, k.duration_ms, k.cost
                 FROM agent_calls k WHERE k.created_at >= ${since}
                 AND k.agent_id = ${body.agentId ? sql`${body.agentId}::uuid` : sql`ANY (ARRAY(SELECT id FROM agents))`}
                 ORDER BY k.created_at DESC LIMIT ${PREVIEW_MAX_RESULTS + 1})
              ORDER BY at DESC LIMIT ${PREVIEW_MAX_RESULTS + 1}) x ORDER BY at`
        : sql`SELECT * FROM (SELECT ${body.subjectType === 'workflow' ? sql`e.workflow_id::text` : sql`'org'`} AS key,
                e.completed_at AS at, e.status, e.duration_ms, e.estimated_cost AS cost
              FROM workflow_executions e WHERE e.completed_at >= ${since}
                AND e.status IN ('completed', 'failed', 'timeout')
              ${body.workflowId ? sql`AND e.workflow_id = ${body.workflowId}::uuid` : sql``}
              ORDER BY e.completed_at DESC LIMIT ${PREVIEW_MAX_RESULTS + 1}) x ORDER BY at`,
    );
    const truncated = rows.length > PREVIEW_MAX_RESULTS;
    const results: Result[] = rows.slice(truncated ? 1 : 0).map((r) => ({
      key: r.key,
      at: new Date(r.at).getTime(),
      failed: r.status === 'error' || r.status === 'failed' || r.status === 'timeout',
      ok: r.status === 'success' || r.status === 'completed',
      durationMs: r.duration_ms === null ? null : Number(r.duration_ms),
      cost: Number(r.cost ?? 0),
    }));
    return summarize({ results, truncated }, body, since);
  });
}

/**
 * The evaluation scores of the last 7 days (newest PREVIEW_MAX_RESULTS), per workflow, per agent (scores of
 * its step attempts) or for the organization.
 */
async function scores(
  tx: Tx,
  body: PreviewBody,
  since: Date,
): Promise<{ results: Result[]; truncated: boolean }> {
  const c = body.condition;
  const evaluator = c.kind === 'eval_score' ? c.evaluator : null;
  const rows = await queryRows<{ key: string; at: Date | string; score: string | number }>(
    tx,
    body.subjectType === 'agent'
      ? sql`SELECT * FROM (SELECT x.agent_id::text AS key, er.created_at AS at, er.score
        FROM evaluation_results er JOIN agent_executions x ON x.id = er.agent_execution_id
        WHERE er.created_at >= ${since}
        ${body.agentId ? sql`AND x.agent_id = ${body.agentId}::uuid` : sql`AND x.agent_id IS NOT NULL`}
        ${evaluator ? sql`AND er.evaluator_name = ${evaluator}` : sql``}
        ORDER BY er.created_at DESC LIMIT ${PREVIEW_MAX_RESULTS + 1}) x ORDER BY at`
      : sql`SELECT * FROM (SELECT ${body.subjectType === 'workflow' ? sql`e.workflow_id::text` : sql`'org'`} AS key,
          er.created_at AS at, er.score
        FROM evaluation_results er JOIN workflow_executions e ON e.id = er.workflow_execution_id
        WHERE er.created_at >= ${since}
        ${body.workflowId ? sql`AND e.workflow_id = ${body.workflowId}::uuid` : sql``}
        ${evaluator ? sql`AND er.evaluator_name = ${evaluator}` : sql``}
        ORDER BY er.created_at DESC LIMIT ${PREVIEW_MAX_RESULTS + 1}) x ORDER BY at`,
  );
  const truncated = rows.length > PREVIEW_MAX_RESULTS;
  const results = rows.slice(truncated ? 1 : 0).map((r) => ({
    key: r.key,
    at: new Date(r.at).getTime(),
    failed: false,
    ok: true,
    durationMs: null,
    cost: 0,
    score: Number(r.score),
  }));
  return { results, truncated };
}

function summarize(
  { results, truncated }: { results: Result[]; truncated: boolean },
  body: PreviewBody,
  since: Date,
) {
  const fired = replay(results, body.condition);
  // Seven 24-hour buckets from 7 days ago to now, labelled by the day each starts.
  const byDay = Array.from({ length: 7 }, (_, i) => {
    const start = since.getTime() + i * DAY;
    return {
      day: new Date(start).toISOString().slice(0, 10),
      fired: fired.filter((t) => t >= start && t < start + DAY).length,
    };
  });
  return {
    supported: true as const,
    note: null,
    fired: fired.length,
    results: results.length,
    subjects: new Set(results.map((r) => r.key)).size,
    truncated,
    byDay,
  };
}
