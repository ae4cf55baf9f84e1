import type { SecretBox } from '@aiops/core';
import { type Database, queryRows } from '@aiops/db';
import { type AddressCategory, guardedFetch, outboundPolicy } from '@aiops/providers';
import { sql } from 'drizzle-orm';
import { Webhook } from 'standardwebhooks';
import type { Mailer } from '../../services/mailer.ts';

export interface NotifierDeps {
  db: Database;
  mailer: Mailer;
  secrets: SecretBox;
  settings: { publicUrl: string; privateNetworkCategories?: readonly AddressCategory[] | undefined };
  log: { warn: (o: object, m: string) => void; error: (o: object, m: string) => void };
}

export const ruleAad = (id: string) => `alert_rule:${id}`;
export const ruleSecretAad = (id: string) => `alert_rule_secret:${id}`;

/** A claimed notification with what its message says. */
export interface Claimed {
  id: string;
  alert_id: string;
  event: 'opened' | 'reminder' | 'acknowledged' | 'resolved';
  channel: 'email' | 'slack' | 'webhook';
  target: string | null;
  reason: string;
  attempts: number;
  created_at: Date | string;
  alert_status: string;
  triggered_at: Date | string;
  subject_type: string;
  subject_id: string;
  subject_name: string | null;
  rule_id: string;
  rule_name: string;
  severity: string;
  slack: string | null;
  webhook_url: string | null;
  webhook_secret: string | null;
  allow_private: boolean | null;
}

const MAX_ATTEMPTS = 8;
const BACKOFF_MS = 5_000;

/** The studio page that explains an alert: the inbox, opened on it. */
export const alertLink = (publicUrl: string, alertId: string) =>
  `${publicUrl.replace(/\/$/, '')}/alerts?alert=${alertId}`;

const TITLES = {
  opened: 'Alert',
  reminder: 'Still open',
  acknowledged: 'Acknowledged',
  resolved: 'Resolved',
};

export function subjectLine(c: Claimed): string {
  return `[AI Ops Studio] ${TITLES[c.event]} "${c.rule_name}": ${c.subject_name ?? c.subject_id} - ${c.reason}`;
}

/** A Slack Block Kit message (also accepted by Slack-compatible incoming webhooks: `text` is the fallback). */
export function slackMessage(c: Claimed, link: string) {
  const subject = subjectLine(c);
  return {
    text: subject,
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: subject.slice(0, 150) } },
      {
        type: 'section',
        fields: [
          {
            type: 'mrkdwn',
            text: `*${c.subject_type === 'workflow' ? 'Workflow' : c.subject_type === 'agent' ? 'Agent' : 'Organization'}*\n${c.subject_name ?? c.subject_id}`,
          },
          { type: 'mrkdwn', text: `*Rule*\n${c.rule_name}` },
          { type: 'mrkdwn', text: `*Severity*\n${c.severity}` },
          { type: 'mrkdwn', text: `*Status*\n${c.alert_status}` },
          { type: 'mrkdwn', text: `*Why*\n${c.reason.slice(0, 1900)}` },
        ],
      },
      { type: 'section', text: { type: 'mrkdwn', text: `<${link}|Open in AI Ops Studio>` } },
    ],
  };
}

/** The generic webhook's body (Standard Webhooks: `type`, `timestamp`, `data`). */
export function webhookBody(c: Claimed, link: string) {
  return {
    type: `alert.${c.event}`,
    timestamp: new Date(c.created_at).toISOString(),
    data: {
      alertId: c.alert_id,
      status: c.alert_status,
      ruleId: c.rule_id,
      ruleName: c.rule_name,
      severity: c.severity,
      subjectType: c.subject_type,
      subjectId: c.subject_id,
      subjectName: c.subject_name,
      reason: c.reason,
      triggeredAt: new Date(c.triggered_at).toISOString(),
      url: link,
    },
  };
}

async function post(
  deps: NotifierDeps,
  c: Claimed,
  url: string,
  body: string,
  headers: Record<string, string>,
) {
  const policy = outboundPolicy({
    allowPrivateNetworks: c.allow_private === true,
    privateCategories: deps.settings.privateNetworkCategories,
  });
  const res = await guardedFetch(policy)(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'user-agent': 'aiops-studio-alerts/1', ...headers },
    body,
    signal: AbortSignal.timeout(10_000),
  });
  await res.body?.cancel().catch(() => {});
  if (res.status < 200 || res.status >= 300) throw new Error(`HTTP ${res.status}`);
}

async function send(deps: NotifierDeps, c: Claimed): Promise<void> {
  const link = alertLink(deps.settings.publicUrl, c.alert_id);
  const subject = subjectLine(c);
  if (c.channel === 'email') {
    const text = `${subject}\n\nRule: ${c.rule_name} (severity ${c.severity})\nSubject: ${c.subject_type} ${c.subject_name ?? ''} (${c.subject_id})\nAlert: ${c.alert_id}, ${c.alert_status}\nDetails: ${link}\n`;
    await deps.mailer.send({ to: c.target!, subject, text });
  } else if (c.channel === 'slack') {
    if (!c.slack) throw new Error('the rule has no Slack webhook any more');
    const url = deps.secrets.decrypt(c.slack, ruleAad(c.rule_id));
    await post(deps, c, url, JSON.stringify(slackMessage(c, link)), {});
  } else {
    if (!c.webhook_url || !c.webhook_secret) throw new Error('the rule has no webhook any more');
    const url = deps.secrets.decrypt(c.webhook_url, ruleAad(c.rule_id));
    const secret = deps.secrets.decrypt(c.webhook_secret, ruleSecretAad(c.rule_id));
    const body = JSON.stringify(webhookBody(c, link));
    const at = new Date();
    await post(deps, c, url, body, {
      'webhook-id': c.id,
      'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
      'webhook-signature': new Webhook(secret).sign(c.id, at, body),
    });
  }
}

/**
 * Sends due alert notifications: claims them with a lease (SKIP LOCKED: processes share the work; a
 * process that dies mid-send loses its lease and another retries), sends each, and records the outcome:
 * sent, or retried with exponential backoff, or failed after 8 attempts. Runs outside any request, so a
 * slow mail server or webhook never delays a heartbeat.
 */
export async function deliverAlertNotifications(deps: NotifierDeps, limit = 50): Promise<number> {
  const claimed = await deps.db.system((tx) =>
    queryRows<Claimed>(
      tx,
      sql`WITH c AS (
            SELECT id FROM alert_notifications
            WHERE status = 'pending' AND next_attempt_at <= now() AND (lease_until IS NULL OR lease_until < now())
            ORDER BY next_attempt_at LIMIT ${limit} FOR UPDATE SKIP LOCKED)
          UPDATE alert_notifications n SET lease_until = now() + interval '45 seconds', attempts = n.attempts + 1
          FROM c, alerts a, alert_rules r, organizations g
          WHERE n.id = c.id AND a.id = n.alert_id AND r.id = a.rule_id AND g.id = n.organization_id
          RETURNING n.id, n.alert_id, n.event, n.channel, n.target, n.reason, n.attempts, n.created_at,
            a.status AS alert_status, a.triggered_at, r.subject_type, a.subject_id,
            coalesce((SELECT name FROM agents WHERE id = a.agent_id), (SELECT name FROM workflows WHERE id = a.workflow_id),
              CASE WHEN r.subject_type = 'organization' THEN g.name END) AS subject_name,
            r.id AS rule_id, r.name AS rule_name, r.severity, r.slack_webhook_encrypted AS slack,
            r.webhook_url_encrypted AS webhook_url, r.webhook_secret_encrypted AS webhook_secret,
            (g.settings->>'allowPrivateNetworks')::boolean AS allow_private`,
    ),
  );
  await Promise.all(
    claimed.map(async (c) => {
      let error: string | null = null;
      try {
        await send(deps, c);
      } catch (e) {
        const cause = (e as { cause?: { message?: string } }).cause?.message;
        error = `${(e as Error).message}${cause ? `: ${cause}` : ''}`.slice(0, 1000);
        deps.log.warn(
          { notificationId: c.id, alertId: c.alert_id, channel: c.channel, attempt: c.attempts, error },
          'alert notification failed',
        );
      }
      const giveUp = c.attempts >= MAX_ATTEMPTS;
      const wait = Math.min(BACKOFF_MS * 2 ** (c.attempts - 1), 3_600_000);
      await deps.db.system((tx) =>
        tx.execute(
          error
            ? sql`UPDATE alert_notifications SET status = ${giveUp ? 'failed' : 'pending'}, last_error = ${error},
                lease_until = NULL, next_attempt_at = now() + make_interval(secs => ${wait / 1000}) WHERE id = ${c.id}::uuid`
            : sql`UPDATE alert_notifications SET status = 'sent', sent_at = now(), last_error = NULL, lease_until = NULL
                WHERE id = ${c.id}::uuid`,
        ),
      );
    }),
  );
  return claimed.length;
}

/** The worker's alert notification loop (beside the outbox loop). */
export class AlertNotifier {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;

  constructor(
    private readonly deps: NotifierDeps,
    private readonly intervalMs = 500,
  ) {}

  start(): void {
    this.stopped = false;
    this.next(0);
  }

  private next(ms: number) {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.pass().then((busy) => this.next(busy ? 0 : this.intervalMs));
    }, ms);
    this.timer.unref?.();
  }

  async pass(): Promise<boolean> {
    try {
      return (await deliverAlertNotifications(this.deps)) >= 50;
    } catch (e) {
      if (!this.stopped) this.deps.log.error({ err: e }, 'alert notification pass failed');
      return false;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }
}
