import { queryRows } from '@aiops/db';
import { sql } from 'drizzle-orm';
import type { ScheduledJob } from '../../jobs/types.ts';
import { apply, enqueue, measure, type RuleRow, type Subject } from './evaluate.ts';

interface OpenRow {
  id: string;
  organization_id: string;
  subject_type: Subject['type'];
  subject_id: string;
  rule_id: string;
  name: string;
  condition: RuleRow['condition'];
  reason: string | null;
}

/**
 * Every minute, on any number of worker processes (rows are claimed with SKIP LOCKED):
 * - window conditions of unresolved alerts are measured again, so an alert whose window emptied or
 *   recovered without new results resolves (absence is only seen on a schedule);
 * - budget rules are measured (fire or clear): spend also grows outside runs, and a new month resets it;
 * - open (not acknowledged) alerts whose rule's cooldown passed since the last notification are
 *   notified again (`reminder`).
 */
export const alertsSweepJob: ScheduledJob = {
  name: 'alerts.sweep',
  cron: '* * * * *',
  async run(ctx) {
    const { cleared, reminded } = await ctx.db.system(async (tx) => {
      const rows = await queryRows<OpenRow>(
        tx,
        sql`SELECT a.id, a.organization_id, r.subject_type, a.subject_id, r.id AS rule_id, r.name, r.condition,
              a.details->>'reason' AS reason
            FROM alerts a JOIN alert_rules r ON r.id = a.rule_id
            WHERE a.status IN ('open', 'acknowledged') AND r.condition->>'kind' IN ('error_rate', 'p95_latency', 'cost', 'eval_score')
            ORDER BY a.triggered_at LIMIT 500 FOR UPDATE OF a SKIP LOCKED`,
      );
      let cleared = 0;
      for (const r of rows) {
        const s: Subject = { type: r.subject_type, id: r.subject_id, organizationId: r.organization_id };
        const rule = { id: r.rule_id, name: r.name, condition: r.condition };
        const v = await measure(tx, rule, s);
        // An emptied window (too few results) clears a window alert: nothing is failing any more.
        const verdict = v.firing === null ? { firing: false, reason: `no longer seen: ${v.reason}` } : v;
        if (!verdict.firing) {
          await apply(tx, rule, s, verdict);
          cleared++;
        }
      }
      // Budget rules are measured on every sweep (spend also grows by gateway and chat calls, not only by
      // runs, and a new month clears them): one row read per rule, fire or clear.
      const budgetRules = await queryRows<{ id: string; name: string; organization_id: string } & RuleRow>(
        tx,
        sql`SELECT id, name, organization_id, condition FROM alert_rules
            WHERE enabled AND subject_type = 'organization' AND condition->>'kind' = 'budget'
            ORDER BY created_at LIMIT 500 FOR UPDATE SKIP LOCKED`,
      );
      for (const r of budgetRules) {
        const s: Subject = { type: 'organization', id: r.organization_id, organizationId: r.organization_id };
        const rule = { id: r.id, name: r.name, condition: r.condition };
        await apply(tx, rule, s, await measure(tx, rule, s));
      }
      const due = await queryRows<{ id: string; reason: string | null }>(
        tx,
        sql`UPDATE alerts a SET last_notified_at = now()
            FROM alert_rules r
            WHERE r.id = a.rule_id AND a.status = 'open'
              AND a.last_notified_at < now() - make_interval(mins => r.cooldown_minutes)
              AND a.id IN (SELECT id FROM alerts WHERE status = 'open' ORDER BY last_notified_at LIMIT 500
                           FOR UPDATE SKIP LOCKED)
            RETURNING a.id, a.details->>'reason' AS reason`,
      );
      for (const d of due) await enqueue(tx, d.id, 'reminder', d.reason ?? 'still open');
      return { cleared, reminded: due.length };
    });
    if (cleared || reminded) ctx.log.info({ cleared, reminded }, 'alerts swept');
  },
};
