/**
 * Recurring step sequences of workflows (`workflow_pattern`), learned incrementally: the completed runs since
 * the last pass (a cursor kept in the pattern row keyed `$cursor`) are read with their completed steps in
 * order; every run of 2 to 4 consecutive steps (agents by name, other nodes by type) counts once per run.
 */
import { type Database, learningPatterns, queryRows, type Tx } from '@aiops/db';
import { and, eq, sql } from 'drizzle-orm';
import type { JobContext, ScheduledJob } from '../../jobs/types.ts';
import { upsertPattern } from './learn.ts';

const CURSOR_KEY = '$cursor';
const BATCH = 500;
const MAX_LEN = 4;

export async function learnWorkflowPatterns(tx: Tx): Promise<{ runs: number; sequences: number }> {
  const [cursorRow] = await tx
    .select({ data: learningPatterns.data })
    .from(learningPatterns)
    .where(and(eq(learningPatterns.patternType, 'workflow_pattern'), eq(learningPatterns.key, CURSOR_KEY)));
  const since =
    typeof cursorRow?.data.completedAt === 'string' ? cursorRow.data.completedAt : '1970-01-01T00:00:00Z';
  const runs = await queryRows<{
    run_id: string;
    workflow_id: string;
    completed_at: string;
    steps: string[];
  }>(
    tx,
    sql`SELECT e.id AS run_id, e.workflow_id,
          to_char(e.completed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS completed_at,
          array_agg(CASE WHEN a.name IS NOT NULL THEN 'agent:' || a.name ELSE ae.node_type END
                    ORDER BY ae.started_at, ae.node_id) AS steps
        FROM workflow_executions e
        JOIN agent_executions ae ON ae.workflow_execution_id = e.id AND ae.status = 'completed'
        LEFT JOIN agents a ON a.id = ae.agent_id
        WHERE e.status = 'completed' AND e.completed_at > ${since}::timestamptz
        GROUP BY e.id
        ORDER BY e.completed_at, e.id
        LIMIT ${BATCH}`,
  );
  if (!runs.length) return { runs: 0, sequences: 0 };
  const counts = new Map<string, { sequence: string[]; runs: number; workflows: Set<string> }>();
  for (const r of runs) {
    const seen = new Set<string>();
    for (let len = 2; len <= MAX_LEN; len++)
      for (let i = 0; i + len <= r.steps.length; i++) {
        const sequence = r.steps.slice(i, i + len);
        const key = sequence.join(' → ').slice(0, 600);
        if (seen.has(key)) continue;
        seen.add(key);
        const c = counts.get(key) ?? { sequence, runs: 0, workflows: new Set<string>() };
        c.runs += 1;
        c.workflows.add(r.workflow_id);
        counts.set(key, c);
      }
  }
  for (const [key, c] of counts)
    await upsertPattern(tx, 'workflow_pattern', key, (data) => {
      const workflows = [
        ...new Set([...((data.workflows as string[] | undefined) ?? []), ...c.workflows]),
      ].slice(0, 20);
      const total = (typeof data.runs === 'number' ? data.runs : 0) + c.runs;
      return {
        data: { sequence: c.sequence, runs: total, workflows },
        // recurring across runs and across workflows: both raise confidence
        confidence: (total / (total + 5)) * Math.min(1, 0.5 + workflows.length / 4),
        occurrences: total,
      };
    });
  const last = runs.at(-1)!.completed_at;
  await upsertPattern(tx, 'workflow_pattern', CURSOR_KEY, () => ({
    data: { completedAt: last },
    confidence: 0,
    occurrences: 0,
  }));
  return { runs: runs.length, sequences: counts.size };
}

/** Every organization with completed runs since its cursor (the scheduled job's pass). */
export async function learnAllOrganizations(db: Database): Promise<number> {
  const orgs = await db.system((tx) =>
    queryRows<{ id: string }>(
      tx,
      sql`SELECT DISTINCT e.organization_id AS id FROM workflow_executions e
          LEFT JOIN learning_patterns lp ON lp.organization_id = e.organization_id
            AND lp.pattern_type = 'workflow_pattern' AND lp.key = ${CURSOR_KEY}
          WHERE e.status = 'completed'
            AND e.completed_at > coalesce((lp.data->>'completedAt')::timestamptz, 'epoch'::timestamptz)
          LIMIT 1000`,
    ),
  );
  for (const o of orgs) await db.withTenant(o.id, learnWorkflowPatterns);
  return orgs.length;
}

/**
 * The scheduled job: learns workflow patterns every 15 minutes. Idempotent: each organization's cursor
 * moves with the runs it counted, in the same transaction.
 */
export const learningJob: ScheduledJob = {
  name: 'learning.workflow-patterns',
  cron: '*/15 * * * *',
  async run(ctx: JobContext) {
    await learnAllOrganizations(ctx.db);
  },
};
