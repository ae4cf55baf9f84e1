import type { SecretBox } from '@aiops/core';
import { queryRows, type Tx } from '@aiops/db';
import { type AddressCategory, guardedFetch, outboundPolicy } from '@aiops/providers';
import { sql } from 'drizzle-orm';
import type { Mailer } from '../../services/mailer.ts';

/** An alert that opened or resolved in a transaction, to notify once that transaction committed. */
export interface AlertChange {
  alertId: string;
  ruleName: string;
  agentName: string;
  agentId: string;
  kind: 'opened' | 'resolved';
  reason: string;
  email: string[];
  ruleId: string;
  slackEncrypted: string | null;
  allowPrivate: boolean;
}

interface Row {
  alert_id: string;
  rule_name: string;
  agent_name: string;
  agent_id: string;
  email: string[] | null;
  rule_id: string;
  slack: string | null;
  allow_private: boolean | null;
}

const toChanges = (rows: Row[], kind: AlertChange['kind'], reason: string): AlertChange[] =>
  rows.map((r) => ({
    alertId: r.alert_id,
    ruleName: r.rule_name,
    agentName: r.agent_name,
    agentId: r.agent_id,
    kind,
    reason,
    email: r.email ?? [],
    ruleId: r.rule_id,
    slackEncrypted: r.slack,
    allowPrivate: r.allow_private === true,
  }));

/**
 * Opens an alert for every enabled rule of `kind` that covers the agent (its own or organization-wide),
 * unless one is already open for that rule and agent (the partial unique index makes this hold across
 * processes: ON CONFLICT DO NOTHING).
 */
async function open(tx: Tx, agentId: string, kind: string, reason: string, extra = sql`true`) {
  const rows = await queryRows<Row>(
    tx,
    sql`WITH opened AS (
      INSERT INTO alerts (organization_id, rule_id, agent_id, details)
      SELECT r.organization_id, r.id, a.id, jsonb_build_object('reason', ${reason}::text)
      FROM alert_rules r JOIN agents a ON a.id = ${agentId}::uuid AND a.organization_id = r.organization_id
      WHERE r.enabled AND r.condition->>'kind' = ${kind} AND (r.agent_id IS NULL OR r.agent_id = a.id) AND ${extra}
      ON CONFLICT (rule_id, agent_id) WHERE status = 'open' DO NOTHING
      RETURNING id, rule_id, agent_id)
    SELECT o.id AS alert_id, r.name AS rule_name, a.name AS agent_name, a.id AS agent_id,
      (SELECT array_agg(e) FROM jsonb_array_elements_text(coalesce(r.channels->'email', '[]')) e) AS email,
      r.id AS rule_id, r.slack_webhook_encrypted AS slack,
      (SELECT (g.settings->>'allowPrivateNetworks')::boolean FROM organizations g WHERE g.id = r.organization_id) AS allow_private
    FROM opened o JOIN alert_rules r ON r.id = o.rule_id JOIN agents a ON a.id = o.agent_id`,
  );
  return toChanges(rows, 'opened', reason);
}

async function resolve(tx: Tx, agentId: string, kind: string, reason: string) {
  const rows = await queryRows<Row>(
    tx,
    sql`WITH resolved AS (
      UPDATE alerts SET status = 'resolved', resolved_at = now(),
        details = details || jsonb_build_object('resolution', ${reason}::text)
      WHERE agent_id = ${agentId}::uuid AND status = 'open'
        AND rule_id IN (SELECT id FROM alert_rules WHERE condition->>'kind' = ${kind})
      RETURNING id, rule_id, agent_id)
    SELECT s.id AS alert_id, r.name AS rule_name, a.name AS agent_name, a.id AS agent_id,
      (SELECT array_agg(e) FROM jsonb_array_elements_text(coalesce(r.channels->'email', '[]')) e) AS email,
      r.id AS rule_id, r.slack_webhook_encrypted AS slack,
      (SELECT (g.settings->>'allowPrivateNetworks')::boolean FROM organizations g WHERE g.id = r.organization_id) AS allow_private
    FROM resolved s JOIN alert_rules r ON r.id = s.rule_id JOIN agents a ON a.id = s.agent_id`,
  );
  return toChanges(rows, 'resolved', reason);
}

export const agentWentOffline = (tx: Tx, agentId: string) =>
  open(tx, agentId, 'agent_offline', 'no heartbeat within its interval and grace');

export const agentHeardFrom = (tx: Tx, agentId: string) =>
  resolve(tx, agentId, 'agent_offline', 'heartbeats arrive again');

/** After a log: N errors in a row open `consecutive_failures` alerts; a success resolves them. */
export async function agentLogged(tx: Tx, agentId: string, status: string): Promise<AlertChange[]> {
  if (status === 'success') return resolve(tx, agentId, 'consecutive_failures', 'a run succeeded');
  if (status !== 'error') return [];
  return open(
    tx,
    agentId,
    'consecutive_failures',
    'consecutive failed runs',
    sql`(SELECT count(*) FILTER (WHERE l.status = 'error') = greatest((r.condition->>'count')::int, 1)
           AND count(*) = greatest((r.condition->>'count')::int, 1)
         FROM (SELECT status FROM agent_logs WHERE agent_id = a.id ORDER BY created_at DESC, id DESC
               LIMIT greatest((r.condition->>'count')::int, 1)) l)`,
  );
}

export interface NotifyDeps {
  mailer: Mailer;
  secrets: SecretBox;
  publicUrl: string;
  privateNetworkCategories: readonly AddressCategory[] | undefined;
  log: { warn: (o: object, m: string) => void };
}

/** A Slack Block Kit message (also accepted by Slack-compatible incoming webhooks: `text` is the fallback). */
export function slackMessage(c: AlertChange, subject: string, link: string) {
  return {
    text: subject,
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: subject.slice(0, 150) } },
      {
        type: 'section',
        fields: [
          { type: 'mrkdwn', text: `*Agent*\n${c.agentName}` },
          { type: 'mrkdwn', text: `*Rule*\n${c.ruleName}` },
          { type: 'mrkdwn', text: `*Status*\n${c.kind === 'opened' ? 'open' : 'resolved'}` },
          { type: 'mrkdwn', text: `*Why*\n${c.reason}` },
        ],
      },
      { type: 'section', text: { type: 'mrkdwn', text: `<${link}|Open in AI Ops Studio>` } },
    ],
  };
}

/**
 * Sends each change to its rule's email addresses and Slack webhook (through the guarded outbound fetch,
 * with the organization's private-network consent); a failed send is logged, never thrown.
 */
export async function notify(deps: NotifyDeps, changes: AlertChange[]): Promise<void> {
  for (const c of changes) {
    const subject =
      c.kind === 'opened'
        ? `[AI Ops Studio] Alert "${c.ruleName}": ${c.agentName} - ${c.reason}`
        : `[AI Ops Studio] Resolved "${c.ruleName}": ${c.agentName} - ${c.reason}`;
    const link = `${deps.publicUrl}/external-agents`;
    const text = `${subject}\n\nAgent: ${c.agentName} (${c.agentId})\nAlert: ${c.alertId}\nDetails: ${link}\n`;
    for (const to of c.email) {
      try {
        await deps.mailer.send({ to, subject, text });
      } catch (err) {
        deps.log.warn({ err, alertId: c.alertId }, 'alert email could not be sent');
      }
    }
    if (c.slackEncrypted) {
      try {
        const url = deps.secrets.decrypt(c.slackEncrypted, `alert_rule:${c.ruleId}`);
        const policy = outboundPolicy({
          allowPrivateNetworks: c.allowPrivate,
          privateCategories: deps.privateNetworkCategories,
        });
        const res = await guardedFetch(policy)(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'user-agent': 'aiops-studio-alerts/1' },
          body: JSON.stringify(slackMessage(c, subject, link)),
          signal: AbortSignal.timeout(10_000),
        });
        await res.body?.cancel().catch(() => {});
        if (!res.ok)
          deps.log.warn({ status: res.status, alertId: c.alertId }, 'Slack webhook refused the alert');
      } catch (err) {
        deps.log.warn(
          { err: (err as Error).message, alertId: c.alertId },
          'alert Slack message could not be sent',
        );
      }
    }
  }
}
