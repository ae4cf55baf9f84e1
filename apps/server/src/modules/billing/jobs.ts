import { queryRows } from '@aiops/db';
import { sql } from 'drizzle-orm';
import type { ScheduledJob } from '../../jobs/types.ts';
import { sendInvoice } from './delivery.ts';
import { generateInvoice, markOverdue, previousPeriod } from './invoices.ts';
import { recordStorageSnapshot } from './ledger.ts';

/**
 * Monthly reset (1st of the month, 00:05 UTC): every organization whose reset date has come starts the
 * month at zero runs (and, through the organizations trigger, zero model cost), with a new reset date. The
 * audit row is written by the database (trigger `organizations_monthly_reset_audit`, migration 0027) for
 * every move of the reset date, whether this job or the engine's lazy reset on the month's first run made
 * it; this job names itself in the row's metadata. The WHERE makes it idempotent: a second run for the
 * same month changes nothing.
 */
export const monthlyResetJob: ScheduledJob = {
  name: 'billing.monthly-reset',
  cron: '5 0 1 * *',
  async run({ db, dueAt, log }) {
    const today = dueAt.toISOString().slice(0, 10);
    const next = new Date(Date.UTC(dueAt.getUTCFullYear(), dueAt.getUTCMonth() + 1, 1))
      .toISOString()
      .slice(0, 10);
    const meta = JSON.stringify({ by: 'job', job: 'billing.monthly-reset', dueAt: dueAt.toISOString() });
    const reset = await db.system(async (tx) => {
      await tx.execute(sql`SELECT set_config('app.monthly_reset_meta', ${meta}, true)`);
      const rows = await queryRows<{ id: string }>(
        tx,
        sql`WITH due AS (
              SELECT id FROM organizations
              WHERE deleted_at IS NULL AND (monthly_reset_date IS NULL OR monthly_reset_date <= ${today}::date)
              FOR NO KEY UPDATE
            )
            UPDATE organizations o SET monthly_executions_used = 0, monthly_reset_date = ${next}::date,
              updated_at = now()
            FROM due WHERE o.id = due.id
            RETURNING o.id::text AS id`,
      );
      return rows.length;
    });
    log.info({ job: 'billing.monthly-reset', organizations: reset }, 'monthly counters reset');
  },
};

/**
 * Month-end invoices (1st of the month, 02:00 UTC): one draft per organization for the month before,
 * then sent (PDF by mail). Idempotent: an organization that already has its invoice is skipped, a draft
 * left by an interrupted run is sent.
 */
export const monthlyInvoicesJob: ScheduledJob = {
  name: 'billing.monthly-invoices',
  cron: '0 2 1 * *',
  leaseMs: 30 * 60_000,
  async run({ db, mailer, dueAt, log, signal }) {
    const period = previousPeriod(dueAt);
    // Only organizations billed during the period: billing began (creation, or the billing migration for
    // older organizations) before its end. A first start after an upgrade thus invoices no month from
    // before billing existed, and the month billing began in is prorated from that day.
    const orgs = await db.system((tx) =>
      queryRows<{ id: string; from: string }>(
        tx,
        sql`SELECT id::text AS id, to_char(billing_started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS "from"
            FROM organizations
            WHERE deleted_at IS NULL AND billing_started_at < ${period.end}::date + 1 ORDER BY id`,
      ),
    );
    let sent = 0;
    for (const o of orgs) {
      if (signal.aborted) break;
      const inv = await generateInvoice(db, o.id, period, dueAt.toISOString().slice(0, 10), {
        billedFrom: o.from,
      });
      if (inv.status === 'draft') {
        await sendInvoice(db, mailer, inv.id, { by: 'job' });
        sent += 1;
      }
    }
    log.info({ job: 'billing.monthly-invoices', period, organizations: orgs.length, sent }, 'invoices sent');
  },
};

/** Daily (01:00 UTC): sent invoices past their due date become overdue (audited). */
export const overdueInvoicesJob: ScheduledJob = {
  name: 'billing.overdue-invoices',
  cron: '0 1 * * *',
  async run({ db, dueAt, log }) {
    const n = await markOverdue(db, dueAt.toISOString().slice(0, 10));
    log.info({ job: 'billing.overdue-invoices', overdue: n }, 'overdue invoices marked');
  },
};

/**
 * Daily (00:30 UTC): each organization's stored bytes (run and attempt inputs and outputs, memory
 * messages) as one `storage` ledger row for the day, in the organization's own transaction. Idempotent by
 * the day's source key.
 */
export const storageSnapshotJob: ScheduledJob = {
  name: 'billing.storage-snapshot',
  cron: '30 0 * * *',
  leaseMs: 15 * 60_000,
  async run({ db, dueAt, log, signal }) {
    const day = dueAt.toISOString().slice(0, 10);
    const orgs = await db.system((tx) =>
      queryRows<{ id: string }>(
        tx,
        sql`SELECT id::text AS id FROM organizations WHERE deleted_at IS NULL ORDER BY id`,
      ),
    );
    for (const o of orgs) {
      if (signal.aborted) break;
      await db.withTenant(o.id, (tx) => recordStorageSnapshot(tx, o.id, day));
    }
    log.info({ job: 'billing.storage-snapshot', day, organizations: orgs.length }, 'storage recorded');
  },
};
