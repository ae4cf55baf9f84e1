import { queryRows, type Tx, workflowExecutions } from '@aiops/db';
import { type SQL, sql } from 'drizzle-orm';

/** The runs list's score filters (GET /runs). */
export interface ScoreFilter {
  scoreMin?: number | undefined;
  scoreMax?: number | undefined;
  passed?: boolean | undefined;
  evaluator?: string | undefined;
}

/**
 * Conditions on a run's evaluation results (run-level and its step attempts'), for the runs list: a score
 * in [scoreMin, scoreMax]; `passed=true` scored with none failed, `passed=false` at least one failed; all
 * limited to one evaluator's scores when `evaluator` (its name) is given. Each is an EXISTS on the results'
 * run index.
 */
export function scoreConditions(q: ScoreFilter): SQL[] {
  const run = workflowExecutions.id;
  const of = (extra: SQL) =>
    sql`EXISTS (SELECT 1 FROM evaluation_results er WHERE er.workflow_execution_id = ${run}
      ${q.evaluator !== undefined ? sql`AND er.evaluator_name = ${q.evaluator}` : sql``} ${extra})`;
  const out: SQL[] = [];
  if (q.scoreMin !== undefined || q.scoreMax !== undefined)
    out.push(
      of(sql`${q.scoreMin !== undefined ? sql`AND er.score >= ${q.scoreMin}` : sql``}
        ${q.scoreMax !== undefined ? sql`AND er.score <= ${q.scoreMax}` : sql``}`),
    );
  if (q.passed === false) out.push(of(sql`AND NOT er.passed`));
  if (q.passed === true) out.push(of(sql``), sql`NOT ${of(sql`AND NOT er.passed`)}`);
  if (q.evaluator !== undefined && !out.length) out.push(of(sql``));
  return out;
}

export interface ScoreSummary {
  count: number;
  mean: number;
  failed: number;
}

/** The scores of a page of runs: how many, their mean and how many failed, by run id. */
export async function scoreSummaries(tx: Tx, runIds: string[]): Promise<Map<string, ScoreSummary>> {
  if (!runIds.length) return new Map();
  const rows = await queryRows<{ id: string; n: number; mean: string; failed: number }>(
    tx,
    sql`SELECT workflow_execution_id AS id, count(*)::int AS n, round(avg(score), 2)::text AS mean,
          (count(*) FILTER (WHERE NOT passed))::int AS failed
        FROM evaluation_results WHERE workflow_execution_id = ANY(${`{${runIds.join(',')}}`}::uuid[])
        GROUP BY 1`,
  );
  return new Map(rows.map((r) => [r.id, { count: r.n, mean: Number(r.mean), failed: r.failed }]));
}
