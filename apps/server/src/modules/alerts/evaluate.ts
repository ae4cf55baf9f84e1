import { queryRows, type Tx } from '@aiops/db';
import { sql } from 'drizzle-orm';
import { monthlyBudget } from '../billing/budget.ts';
import { resultsOf, type Subject, scoresOf } from './results.ts';

export type { Subject } from './results.ts';

export interface RuleRow {
  id: string;
  name: string;
  condition: {
    kind: string;
    count?: number;
    threshold?: number;
    windowMinutes?: number;
    minSamples?: number;
    evaluator?: string | null;
  };
}

/** A rule's verdict on a subject now: fire, clear, or (too few results) leave as it is. */
export interface Verdict {
  firing: boolean | null;
  reason: string;
  value?: number | null;
}

const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));

/**
 * Measures one rule's condition on a subject with one bounded query (the last N results, or the results of
 * the trailing window, by index): called as each result arrives, never by rescanning history.
 */
export async function measure(tx: Tx, rule: RuleRow, s: Subject): Promise<Verdict> {
  const c = rule.condition;
  const windowMin = c.windowMinutes ?? 60;
  const minSamples = c.minSamples ?? 1;
  const inWindow = resultsOf(s, { windowMinutes: windowMin });
  switch (c.kind) {
    case 'consecutive_failures': {
      const n = Math.max(c.count ?? 1, 1);
      const rows = await queryRows<{ failed: boolean; ok: boolean }>(
        tx,
        sql`SELECT failed, ok FROM ${resultsOf(s, { last: n })} ORDER BY at DESC NULLS LAST, id DESC LIMIT ${n}`,
      );
      if (rows.length === n && rows.every((x) => x.failed))
        return { firing: true, reason: `${n} failed results in a row`, value: n };
      if (rows[0]?.ok)
        return { firing: false, reason: s.type === 'agent' ? 'a result succeeded' : 'a run succeeded' };
      return { firing: null, reason: '' };
    }
    case 'error_rate': {
      const [row] = await queryRows<{ n: string; failed: string }>(
        tx,
        sql`SELECT count(*) AS n, count(*) FILTER (WHERE failed) AS failed FROM ${inWindow}`,
      );
      const n = Number(row?.n ?? 0);
      if (n < minSamples) return { firing: null, reason: `${n} results (fewer than ${minSamples})` };
      const rate = (Number(row!.failed) / n) * 100;
      const shown = `${rate.toFixed(1)}% of ${n} results failed in the last ${windowMin} min`;
      return rate > (c.threshold ?? 0)
        ? { firing: true, reason: `${shown} (above ${c.threshold}%)`, value: rate }
        : { firing: false, reason: `error rate back to ${rate.toFixed(1)}%`, value: rate };
    }
    case 'p95_latency': {
      const [row] = await queryRows<{ n: string; p95: string | number | null }>(
        tx,
        sql`SELECT count(duration_ms) AS n,
              percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms) AS p95
            FROM ${inWindow} WHERE duration_ms IS NOT NULL`,
      );
      const n = Number(row?.n ?? 0);
      if (n < minSamples) return { firing: null, reason: `${n} results (fewer than ${minSamples})` };
      const p95 = Math.round(num(row!.p95) ?? 0);
      return p95 > (c.threshold ?? 0)
        ? {
            firing: true,
            reason: `p95 latency ${p95} ms over ${n} results in the last ${windowMin} min (above ${c.threshold} ms)`,
            value: p95,
          }
        : { firing: false, reason: `p95 latency back to ${p95} ms`, value: p95 };
    }
    case 'cost': {
      const [row] = await queryRows<{ n: string; cost: string | null }>(
        tx,
        sql`SELECT count(*) AS n, coalesce(sum(cost), 0) AS cost FROM ${inWindow}`,
      );
      const n = Number(row?.n ?? 0);
      const cost = num(row?.cost) ?? 0;
      const shown = `cost ${cost.toFixed(4)} in the last ${windowMin} min`;
      if (cost <= (c.threshold ?? 0))
        return { firing: false, reason: `${shown}, back under ${c.threshold}`, value: cost };
      const what = s.type === 'agent' ? 'results' : 'runs';
      if (n < minSamples) return { firing: null, reason: `${n} ${what} (fewer than ${minSamples})` };
      return { firing: true, reason: `${shown} (above ${c.threshold})`, value: cost };
    }
    case 'eval_score': {
      const [row] = await queryRows<{ n: string; mean: string | number | null }>(
        tx,
        sql`SELECT count(*) AS n, avg(er.score) AS mean FROM ${scoresOf(s, windowMin, c.evaluator)}`,
      );
      const n = Number(row?.n ?? 0);
      if (n < minSamples) return { firing: null, reason: `${n} scores (fewer than ${minSamples})` };
      const mean = Math.round((num(row!.mean) ?? 0) * 100) / 100;
      const of = c.evaluator ? `${c.evaluator} ` : '';
      return mean < (c.threshold ?? 0)
        ? {
            firing: true,
            reason: `mean ${of}score ${mean} over ${n} scores in the last ${windowMin} min (below ${c.threshold})`,
            value: mean,
          }
        : { firing: false, reason: `mean ${of}score back to ${mean}`, value: mean };
    }
    case 'budget': {
      if (s.type !== 'organization') return { firing: null, reason: '' };
      const { budgetUsd, spentUsd } = await monthlyBudget(tx, s.organizationId);
      if (budgetUsd === null) return { firing: false, reason: 'the organization has no monthly budget' };
      const pct = budgetUsd > 0 ? (spentUsd / budgetUsd) * 100 : spentUsd > 0 ? Number.POSITIVE_INFINITY : 0;
      const shown = `$${spentUsd.toFixed(2)} of the $${budgetUsd} monthly budget spent (${Number.isFinite(pct) ? pct.toFixed(1) : '∞'}%)`;
      const value = Number.isFinite(pct) ? pct : null;
      return pct >= (c.threshold ?? 100)
        ? { firing: true, reason: `${shown}, at or above ${c.threshold}%`, value }
        : { firing: false, reason: `${shown}, under ${c.threshold}%`, value };
    }
    default:
      return { firing: null, reason: '' };
  }
}

/** Writes one notification per channel of the alert's rule, and the alert.* event for the event sinks. */
export async function enqueue(
  tx: Tx,
  alertId: string,
  event: 'opened' | 'reminder' | 'acknowledged' | 'resolved',
  reason: string,
): Promise<void> {
  await tx.execute(sql`
    INSERT INTO alert_notifications (organization_id, alert_id, event, channel, target, reason)
    SELECT a.organization_id, a.id, ${event}, c.channel, c.target, ${reason.slice(0, 2000)}
    FROM alerts a JOIN alert_rules r ON r.id = a.rule_id
    CROSS JOIN LATERAL (
      SELECT 'email' AS channel, e AS target FROM jsonb_array_elements_text(coalesce(r.channels->'email', '[]')) e
      UNION ALL SELECT 'slack', NULL WHERE r.slack_webhook_encrypted IS NOT NULL
      UNION ALL SELECT 'webhook', NULL WHERE r.webhook_url_encrypted IS NOT NULL) c
    WHERE a.id = ${alertId}::uuid`);
  if (event === 'reminder') return;
  await tx.execute(sql`
    INSERT INTO event_outbox (organization_id, type, subject_id, payload)
    SELECT a.organization_id, ${`alert.${event}`}, a.id, jsonb_strip_nulls(jsonb_build_object(
      'alertId', a.id, 'ruleId', r.id, 'ruleName', r.name, 'severity', r.severity, 'status', a.status,
      'subjectType', r.subject_type, 'subjectId', a.subject_id, 'agentId', a.agent_id,
      'workflowId', a.workflow_id, 'reason', ${reason.slice(0, 2000)}::text, 'condition', r.condition,
      'triggeredAt', a.triggered_at, 'acknowledgedAt', a.acknowledged_at, 'resolvedAt', a.resolved_at))
    FROM alerts a JOIN alert_rules r ON r.id = a.rule_id
    WHERE a.id = ${alertId}::uuid AND coalesce((r.channels->>'events')::boolean, true)`);
}

/** Applies a verdict: opens the rule's alert for the subject (once: the partial unique index), or resolves it. */
export async function apply(tx: Tx, rule: RuleRow, s: Subject, v: Verdict): Promise<void> {
  if (v.firing === null) return;
  if (v.firing) {
    const opened = await queryRows<{ id: string }>(
      tx,
      sql`INSERT INTO alerts (organization_id, rule_id, subject_id, agent_id, workflow_id, details)
          VALUES (${s.organizationId}::uuid, ${rule.id}::uuid, ${s.id}::uuid,
            ${s.type === 'agent' ? s.id : null}::uuid, ${s.type === 'workflow' ? s.id : null}::uuid,
            jsonb_strip_nulls(jsonb_build_object('reason', ${v.reason}::text, 'value', ${v.value ?? null}::float8)))
          ON CONFLICT (rule_id, subject_id) WHERE status IN ('open', 'acknowledged') DO NOTHING
          RETURNING id`,
    );
    for (const a of opened) await enqueue(tx, a.id, 'opened', v.reason);
    return;
  }
  const resolved = await queryRows<{ id: string }>(
    tx,
    sql`UPDATE alerts SET status = 'resolved', resolved_at = now(), resolution_comment = ${v.reason}
        WHERE rule_id = ${rule.id}::uuid AND subject_id = ${s.id}::uuid AND status IN ('open', 'acknowledged')
        RETURNING id`,
  );
  for (const a of resolved) await enqueue(tx, a.id, 'resolved', v.reason);
}

/** The enabled rules of the given kinds that cover a subject (its own, or every agent/workflow). */
export async function rulesFor(tx: Tx, s: Subject, kinds: string[]): Promise<RuleRow[]> {
  const own =
    s.type === 'agent'
      ? sql`(agent_id IS NULL OR agent_id = ${s.id}::uuid)`
      : s.type === 'workflow'
        ? sql`(workflow_id IS NULL OR workflow_id = ${s.id}::uuid)`
        : sql`true`;
  return queryRows<RuleRow>(
    tx,
    sql`SELECT id, name, condition FROM alert_rules
        WHERE enabled AND organization_id = ${s.organizationId}::uuid AND subject_type = ${s.type}
          AND condition->>'kind' IN (${sql.join(
            kinds.map((k) => sql`${k}`),
            sql`, `,
          )}) AND ${own}
        ORDER BY created_at LIMIT 200`,
  );
}

/** Run-driven kinds; a finished run also adds to the month's spend, so the organization's budget rules too. */
const RESULT_KINDS = ['consecutive_failures', 'error_rate', 'p95_latency', 'cost', 'budget'];

/**
 * The kinds a finished agent step attempt or call outside workflows can change (eval_score changes with a
 * score, not a step).
 */
const STEP_KINDS = ['consecutive_failures', 'error_rate', 'p95_latency', 'cost'];

/** Evaluates every rule of the given kinds of a subject (after a new result arrived for it). */
export async function evaluateSubject(tx: Tx, s: Subject, kinds = RESULT_KINDS): Promise<void> {
  for (const rule of await rulesFor(tx, s, kinds)) await apply(tx, rule, s, await measure(tx, rule, s));
}

/**
 * An evaluation score was stored (`evaluations/repo.ts` insertResult, in its transaction): the eval_score
 * rules of the run's workflow, of the scored step's agent (a score on an agent attempt) and of the
 * organization, and its budget rules (a judge's call is spend). In a savepoint: a rule that cannot be
 * evaluated never loses the score (the sweep still clears its alerts).
 */
export async function scoreRecorded(
  tx: Tx,
  organizationId: string,
  runId: string,
  agentId: string | null = null,
): Promise<void> {
  await tx
    .transaction(async (sp) => {
      const t = sp as unknown as Tx;
      const [run] = await queryRows<{ workflow_id: string | null }>(
        t,
        sql`SELECT workflow_id FROM workflow_executions WHERE id = ${runId}::uuid`,
      );
      if (run?.workflow_id)
        await evaluateSubject(t, { type: 'workflow', id: run.workflow_id, organizationId }, ['eval_score']);
      if (agentId) await evaluateSubject(t, { type: 'agent', id: agentId, organizationId }, ['eval_score']);
      await evaluateSubject(t, { type: 'organization', id: organizationId, organizationId }, [
        'eval_score',
        'budget',
      ]);
    })
    .catch(() => undefined);
}

/** An external agent's log arrived: the agent's result-driven rules (its steps' attempts are read too). */
export const agentLogged = (tx: Tx, organizationId: string, agentId: string) =>
  evaluateSubject(tx, { type: 'agent', id: agentId, organizationId });

/**
 * An internal agent answered outside a workflow (a conversation turn or a try, `agents/calls.ts`, in the
 * transaction that records the call): the agent's result-driven rules, in a savepoint, so a rule that
 * cannot be evaluated never loses the answer (the sweep still clears window alerts).
 */
export async function agentCalled(tx: Tx, organizationId: string, agentId: string): Promise<void> {
  await tx
    .transaction((sp) =>
      evaluateSubject(sp as unknown as Tx, { type: 'agent', id: agentId, organizationId }, STEP_KINDS),
    )
    .catch(() => undefined);
}

/** A workflow run finished (from the outbox's `workflow_finished`): the workflow's and the organization's rules. */
export async function workflowFinished(tx: Tx, organizationId: string, workflowId: string) {
  await evaluateSubject(tx, { type: 'workflow', id: workflowId, organizationId });
  await evaluateSubject(tx, { type: 'organization', id: organizationId, organizationId });
}

async function heartbeatRules(tx: Tx, organizationId: string, agentId: string, v: Verdict) {
  const s: Subject = { type: 'agent', id: agentId, organizationId };
  for (const rule of await rulesFor(tx, s, ['agent_offline'])) await apply(tx, rule, s, v);
}

export const agentWentOffline = (tx: Tx, organizationId: string, agentId: string) =>
  heartbeatRules(tx, organizationId, agentId, {
    firing: true,
    reason: 'no heartbeat within its interval and grace',
  });

export const agentHeardFrom = (tx: Tx, organizationId: string, agentId: string) =>
  heartbeatRules(tx, organizationId, agentId, { firing: false, reason: 'heartbeats arrive again' });

/**
 * The agent-scoped rules of the agents whose workflow steps finished in one outbox batch
 * (`agent_task_completed` / `agent_task_failed`): one query reads every enabled rule that covers any of them
 * (its own agent, or every agent), then each agent's rules are measured once per batch, each agent in a
 * savepoint. Agents without a rule cost nothing more than that one query per batch.
 */
async function agentStepsFinished(
  tx: Tx,
  done: Map<string, string>,
  log: { error: (o: object, m: string) => void },
): Promise<void> {
  const ids = (v: Iterable<string>) =>
    sql.join(
      [...new Set(v)].map((x) => sql`${x}::uuid`),
      sql`, `,
    );
  const rules = await queryRows<RuleRow & { organization_id: string; agent_id: string | null }>(
    tx,
    sql`SELECT id, name, condition, organization_id, agent_id FROM alert_rules
        WHERE enabled AND subject_type = 'agent' AND organization_id IN (${ids(done.values())})
          AND (agent_id IS NULL OR agent_id IN (${ids(done.keys())}))
          AND condition->>'kind' IN (${sql.join(
            STEP_KINDS.map((k) => sql`${k}`),
            sql`, `,
          )})
        ORDER BY created_at LIMIT 1000`,
  );
  if (!rules.length) return;
  for (const [agentId, organizationId] of done) {
    const mine = rules.filter(
      (r) => r.organization_id === organizationId && (r.agent_id === null || r.agent_id === agentId),
    );
    if (!mine.length) continue;
    const s: Subject = { type: 'agent', id: agentId, organizationId };
    try {
      await tx.transaction(async (sp) => {
        for (const rule of mine)
          await apply(sp as unknown as Tx, rule, s, await measure(sp as unknown as Tx, rule, s));
      });
    } catch (err) {
      log.error({ err, agentId }, "alert rules of an agent's finished steps could not be evaluated");
    }
  }
}

/**
 * The outbox observer (modules/events/outbox.ts): evaluates the rules of each workflow whose run finished,
 * once per batch and workflow, and the rules of each agent whose workflow steps finished, once per batch and
 * agent, in the dispatching transaction (so once across processes). A rule that fails to evaluate is rolled
 * back to its savepoint and logged; it never blocks the outbox.
 */
export function alertsOnOutbox(log: { error: (o: object, m: string) => void }) {
  return async (
    tx: Tx,
    rows: {
      organization_id: string;
      type: string;
      workflow_id: string | null;
      agent_id?: string | null;
    }[],
  ): Promise<void> => {
    const agents = new Map<string, string>();
    for (const r of rows)
      if ((r.type === 'agent_task_completed' || r.type === 'agent_task_failed') && r.agent_id)
        agents.set(r.agent_id, r.organization_id);
    if (agents.size)
      await tx
        .transaction((sp) => agentStepsFinished(sp as unknown as Tx, agents, log))
        .catch((err) => log.error({ err }, "alert rules of agents' finished steps could not be read"));
    const seen = new Set<string>();
    for (const r of rows) {
      if (r.type !== 'workflow_finished' || !r.workflow_id || seen.has(r.workflow_id)) continue;
      seen.add(r.workflow_id);
      try {
        await tx.transaction((sp) =>
          workflowFinished(sp as unknown as Tx, r.organization_id, r.workflow_id!),
        );
      } catch (err) {
        log.error({ err, workflowId: r.workflow_id }, 'alert rules of a finished run could not be evaluated');
      }
    }
  };
}
