import { type SQL, sql } from 'drizzle-orm';
import { selectForBatch } from './plans.ts';

/** What a sample needs of a step outcome (`StepOutcome` of complete-steps.ts, which imports this file). */
export interface MeasuredOutcome {
  step: {
    stepId: string;
    organizationId: string;
    workflowId: string;
    runId: string;
    nodeId: string;
    attempt: number;
  };
  kind: string;
  nodeType: string;
  input: unknown;
  agentId?: string | undefined;
  model?: string | undefined;
  usage?: { inputTokens: number; outputTokens: number; totalTokens: number } | undefined;
  cost?: string | undefined;
  startedAt: Date;
  finishedAt: Date;
}

/** Node types whose attempts are agent metric samples (agent calls and tool calls). */
const MEASURED = new Set(['agent', 'tool']);

/**
 * The agent metric samples of a batch of outcomes (issue 14, seed 000 `agent_metrics`): one row per agent
 * or tool attempt with its latency, tokens, cost and error, and its dimensions (agent, model, workflow,
 * tool). Waiting and cancelled attempts are not samples.
 */
export function agentMetricRows(outcomes: MeasuredOutcome[]) {
  const rows = [];
  for (const o of outcomes) {
    if (!MEASURED.has(o.nodeType) || (o.kind !== 'completed' && o.kind !== 'failed')) continue;
    const tool =
      o.nodeType === 'tool'
        ? String((o.input as { tool?: unknown } | undefined)?.tool ?? '').slice(0, 100)
        : '';
    rows.push({
      step_id: o.step.stepId,
      organization_id: o.step.organizationId,
      agent_id: o.agentId ?? null,
      model: (o.model ?? '').slice(0, 255),
      workflow_id: o.step.workflowId,
      tool,
      run_id: o.step.runId,
      node_id: o.step.nodeId,
      attempt: o.step.attempt,
      latency_ms: Math.max(0, Math.round(o.finishedAt.getTime() - o.startedAt.getTime())),
      input_tokens: o.usage?.inputTokens ?? 0,
      output_tokens: o.usage?.outputTokens ?? 0,
      tokens: o.usage?.totalTokens ?? 0,
      cost: o.cost ?? '0',
      error: o.kind === 'failed' ? 1 : 0,
    });
  }
  return rows;
}

/**
 * Wraps the completion call so the batch's metric samples are inserted by the same statement (one round
 * trip, one commit): `aiops_record_agent_metrics` keeps the samples of the steps the completion confirmed.
 * `also`: the batch's other writes, in the same statement after the completion, in order; they may read
 * its result as `c.r` (the observability log lines and spans, the organizations' model spend). A batch
 * with nothing else to write runs the completion call alone.
 */
export function withAgentMetrics(completeCall: SQL, outcomes: MeasuredOutcome[], also: SQL[] = []): SQL {
  const rows = agentMetricRows(outcomes);
  // Plans as for the batch's size (plans.ts): the setting then holds for the whole statement.
  const complete = selectForBatch(outcomes.length, sql`${completeCall} AS r`);
  const more = rows.length
    ? [sql`aiops_record_agent_metrics(c.r->'confirmed', ${JSON.stringify(rows)}::jsonb) AS metrics`, ...also]
    : also;
  if (!more.length) return complete;
  return sql`WITH c AS MATERIALIZED (${complete}) SELECT c.r, ${sql.join(more, sql`, `)} FROM c`;
}
