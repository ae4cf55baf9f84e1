import { type CostReport, costQuerySchema, costReportSchema } from '@aiops/contracts';
import { badRequest } from '@aiops/core';
import { queryRows } from '@aiops/db';
import { type SQL, sql } from 'drizzle-orm';
import { tenant } from '../../http/tenant.ts';
import type { AppModule } from '../../module.ts';

const tags = ['costs'];
const DAY_MS = 86_400_000;

const GROUP: Record<CostReport['groupBy'], { key: SQL; name: SQL }> = {
  workflow: { key: sql`r.workflow_id::text`, name: sql`max(w.name)` },
  agent: { key: sql`a.agent_id::text`, name: sql`max(ag.name)` },
  model: { key: sql`a.model`, name: sql`a.model` },
  day: { key: sql`to_char(a.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')`, name: sql`NULL::text` },
};

interface Row {
  key: string | null;
  name: string | null;
  cost: string;
  input_tokens: string;
  output_tokens: string;
  total_tokens: string;
  calls: string;
  cached_calls: string;
  runs: string;
}

interface JudgeRow {
  key: string | null;
  name: string | null;
  cost: string;
  input_tokens: string;
  output_tokens: string;
  total_tokens: string;
  calls: string;
  runs: string;
}

/**
 * What LLM-as-judge calls cost (evaluation results and evaluator tests), by evaluator, from the usage
 * ledger rows they wrote (`resource_type` evaluation_result / evaluator_test); the workflow and agent
 * filters keep the scorings of that workflow's runs or that agent's attempts.
 */
async function judgeCosts(
  tx: Parameters<Parameters<typeof tenant>[1]>[0],
  q: { workflowId?: string | undefined; agentId?: string | undefined },
  from: Date,
  to: Date,
) {
  const where = sql`u.usage_type = 'tokens' AND u.resource_type IN ('evaluation_result', 'evaluator_test')
    AND u.occurred_at >= ${from} AND u.occurred_at < ${to}
    ${q.workflowId ? sql`AND u.workflow_id = ${q.workflowId}` : sql``}
    ${q.agentId ? sql`AND u.details->>'agentId' = ${q.agentId}` : sql``}`;
  const measures = sql`coalesce(sum(u.total_cost), 0)::text AS cost,
    coalesce(sum(u.input_tokens), 0)::text AS input_tokens,
    coalesce(sum(u.output_tokens), 0)::text AS output_tokens,
    coalesce(sum(u.quantity), 0)::text AS total_tokens,
    count(*)::text AS calls,
    count(DISTINCT u.details->>'runId')::text AS runs`;
  const groups = await queryRows<JudgeRow>(
    tx,
    sql`SELECT u.details->>'evaluatorId' AS key, max(coalesce(v.name, u.details->>'evaluatorName')) AS name,
          ${measures}
        FROM usage_records u LEFT JOIN evaluators v ON v.id::text = u.details->>'evaluatorId'
        WHERE ${where} GROUP BY 1 ORDER BY sum(u.total_cost) DESC, 2 ASC`,
  );
  const [total] = await queryRows<JudgeRow>(
    tx,
    sql`SELECT NULL AS key, NULL AS name, ${measures} FROM usage_records u WHERE ${where}`,
  );
  return {
    total: {
      cost: Number(total!.cost),
      tokens: Number(total!.total_tokens),
      calls: Number(total!.calls),
      runs: Number(total!.runs),
    },
    groups: groups.map((r) => ({
      key: r.key,
      name: r.name,
      cost: Number(r.cost),
      inputTokens: Number(r.input_tokens),
      outputTokens: Number(r.output_tokens),
      totalTokens: Number(r.total_tokens),
      calls: Number(r.calls),
      runs: Number(r.runs),
    })),
  };
}

/**
 * What model calls cost, from the attempts' recorded tokens and cost, grouped by workflow, agent, model or
 * day; and, apart, what LLM-as-judge evaluations cost, by evaluator (the organization's model spend is the
 * two totals' sum). Costs are the ones recorded at call time.
 */
export const costsModule: AppModule = () => async (app) => {
  app.get(
    '/costs',
    {
      config: { permission: 'run:read' },
      schema: {
        tags,
        summary:
          'Tokens and cost of model calls, grouped by workflow, agent, model or day; LLM-as-judge calls by evaluator',
        querystring: costQuerySchema,
        response: { 200: costReportSchema },
      },
    },
    async (request) => {
      const q = request.query;
      const to = q.to ? new Date(q.to) : new Date();
      const from = q.from ? new Date(q.from) : new Date(to.getTime() - 30 * DAY_MS);
      if (from >= to)
        throw badRequest('from must be before to', { issues: [{ path: 'query.from', message: 'after to' }] });
      const g = GROUP[q.groupBy];
      const where = sql`a.model IS NOT NULL AND a.created_at >= ${from} AND a.created_at < ${to}
        ${q.workflowId ? sql`AND r.workflow_id = ${q.workflowId}` : sql``}
        ${q.agentId ? sql`AND a.agent_id = ${q.agentId}` : sql``}`;
      const from_ = sql`FROM agent_executions a
        JOIN workflow_executions r ON r.id = a.workflow_execution_id
        LEFT JOIN workflows w ON w.id = r.workflow_id
        LEFT JOIN agents ag ON ag.id = a.agent_id`;
      const measures = sql`coalesce(sum(a.estimated_cost), 0)::text AS cost,
        coalesce(sum(a.input_tokens), 0)::text AS input_tokens,
        coalesce(sum(a.output_tokens), 0)::text AS output_tokens,
        coalesce(sum(a.total_tokens), 0)::text AS total_tokens,
        count(*)::text AS calls,
        count(*) FILTER (WHERE a.cached)::text AS cached_calls,
        count(DISTINCT a.workflow_execution_id)::text AS runs`;
      const { rows, total, evaluations } = await tenant(request, async (tx) => {
        const order = q.groupBy === 'day' ? sql`1 ASC` : sql`sum(a.estimated_cost) DESC, 1 ASC`;
        const rows = await queryRows<Row>(
          tx,
          sql`SELECT ${g.key} AS key, ${g.name} AS name, ${measures} ${from_} WHERE ${where} GROUP BY 1 ORDER BY ${order}`,
        );
        const [total] = await queryRows<Row>(
          tx,
          sql`SELECT NULL AS key, NULL AS name, ${measures} ${from_} WHERE ${where}`,
        );
        return { rows, total, evaluations: await judgeCosts(tx, q, from, to) };
      });
      const groups = rows.map((r) => ({
        key: r.key,
        name: r.name,
        cost: Number(r.cost),
        inputTokens: Number(r.input_tokens),
        outputTokens: Number(r.output_tokens),
        totalTokens: Number(r.total_tokens),
        calls: Number(r.calls),
        cachedCalls: Number(r.cached_calls),
        runs: Number(r.runs),
      }));
      return {
        groupBy: q.groupBy,
        from: from.toISOString(),
        to: to.toISOString(),
        total: {
          cost: Number(total!.cost),
          tokens: Number(total!.total_tokens),
          calls: Number(total!.calls),
          runs: Number(total!.runs),
        },
        groups,
        evaluations,
      };
    },
  );
};
