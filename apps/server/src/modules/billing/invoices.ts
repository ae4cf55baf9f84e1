import { AppError, badRequest, conflict, notFound, PLANS, type Plan, planFor } from '@aiops/core';
import { auditLogs, type Database, type InvoiceStatus, invoices, queryRows, type Tx } from '@aiops/db';
import { and, eq, sql } from 'drizzle-orm';
import type { PaymentPort } from '../../services/payments.ts';
import { computeInvoice, type PlanSegment } from './invoice-math.ts';
import { purchasesForPeriod } from './purchases.ts';

export type InvoiceRow = typeof invoices.$inferSelect;

/** Allowed status changes; anything else is refused (409). A cancelled invoice keeps its number. */
export const TRANSITIONS: Record<InvoiceStatus, InvoiceStatus[]> = {
  draft: ['sent', 'cancelled'],
  sent: ['paid', 'overdue', 'cancelled'],
  overdue: ['paid', 'cancelled'],
  paid: ['cancelled'],
  cancelled: [],
};

export const PAYMENT_TERMS_DAYS = 30;

const addDays = (iso: string, n: number) =>
  new Date(Date.parse(`${iso}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);

/** The previous calendar month (UTC) of an instant: the period a month-end run invoices. */
export function previousPeriod(at: Date): { start: string; end: string } {
  const start = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth() - 1, 1));
  const end = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), 0));
  return { start: start.toISOString().slice(0, 10), end: end.toISOString().slice(0, 10) };
}

/** Takes the next number of `year` under the sequence row's lock: gapless, since a rollback returns it. */
async function nextNumber(tx: Tx, year: number): Promise<string> {
  const [row] = await queryRows<{ n: number }>(
    tx,
    sql`INSERT INTO invoice_sequences (year, last_number) VALUES (${year}, 1)
        ON CONFLICT (year) DO UPDATE SET last_number = invoice_sequences.last_number + 1
        RETURNING last_number AS n`,
  );
  return `INV-${year}-${String(row!.n).padStart(6, '0')}`;
}

/** The plans in force during the period, from the ledger's plan_change rows (proration by UTC day). */
export async function planSegments(
  tx: Tx,
  organizationId: string,
  current: Plan,
  start: string,
  end: string,
): Promise<PlanSegment[]> {
  const changes = await queryRows<{ from: string; to: string; day: string }>(
    tx,
    sql`SELECT details->>'from' AS "from", details->>'to' AS "to",
          to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day
        FROM usage_records WHERE organization_id = ${organizationId} AND usage_type = 'plan_change'
          AND period_start = ${start} ORDER BY occurred_at, id`,
  );
  const after = await queryRows<{ from: string }>(
    tx,
    sql`SELECT details->>'from' AS "from" FROM usage_records
        WHERE organization_id = ${organizationId} AND usage_type = 'plan_change' AND period_start > ${start}
        ORDER BY occurred_at, id LIMIT 1`,
  );
  // The plan at the end of the period: the one the first later change left, else the current one.
  const endPlan = after[0] ? (planFor(after[0].from) ?? current) : current;
  if (changes.length === 0) return [{ plan: endPlan, from: start, to: end }];
  const segments: PlanSegment[] = [];
  let plan = planFor(changes[0]!.from) ?? endPlan;
  let from = start;
  for (const c of changes) {
    if (c.day > from) {
      segments.push({ plan, from, to: addDays(c.day, -1) });
      from = c.day;
    }
    plan = planFor(c.to) ?? plan;
  }
  segments.push({ plan, from, to: end });
  return segments;
}

/**
 * Makes the invoice of one organization for one period (a calendar month), as a draft, in one owner
 * transaction: the organization's row is locked, an existing invoice for the period is returned as is
 * (so the month-end job can run again), the number is taken last. Also writes the audit row.
 */
export async function generateInvoice(
  db: Database,
  organizationId: string,
  period: { start: string; end: string },
  today = new Date().toISOString().slice(0, 10),
  options: {
    /** The day billing began (YYYY-MM-DD): a period it falls in is billed from that day on (prorated). */
    billedFrom?: string | undefined;
  } = {},
): Promise<InvoiceRow> {
  return db.system(async (tx) => {
    const [org] = await queryRows<{
      name: string;
      tier: string;
      billing_email: string | null;
      billing_address: Record<string, unknown> | null;
      vat_id: string | null;
    }>(
      tx,
      sql`SELECT name, subscription_tier AS tier, billing_email, billing_address, vat_id
          FROM organizations WHERE id = ${organizationId} FOR NO KEY UPDATE`,
    );
    if (!org) throw notFound('organization');
    const [existing] = await tx
      .select()
      .from(invoices)
      .where(
        and(
          eq(invoices.organizationId, organizationId),
          eq(invoices.periodStart, period.start),
          eq(invoices.kind, 'invoice'),
        ),
      );
    if (existing) return existing;

    const current = planFor(org.tier) ?? PLANS.starter;
    const from = options.billedFrom;
    if (from && from > period.end)
      throw conflict(
        `Billing of this organization began on ${from}, after the period ${period.start} to ${period.end}`,
      );
    const segments = (await planSegments(tx, organizationId, current, period.start, period.end))
      .filter((s) => !from || s.to >= from)
      .map((s) => (from && s.from < from ? { ...s, from } : s));
    const [usage] = await queryRows<{ runs: string; tokens: string }>(
      tx,
      sql`SELECT coalesce(sum(quantity) FILTER (WHERE usage_type = 'workflow_execution'), 0)::text AS runs,
            coalesce(sum(quantity) FILTER (WHERE usage_type = 'tokens'), 0)::text AS tokens
          FROM usage_records WHERE organization_id = ${organizationId} AND period_start = ${period.start}`,
    );
    const purchases = await purchasesForPeriod(tx, organizationId, period.start, period.end);
    const country = typeof org.billing_address?.country === 'string' ? org.billing_address.country : null;
    const [rate] = country
      ? await queryRows<{ name: string; rate: string; reverse_charge: boolean }>(
          tx,
          sql`SELECT name, rate::text AS rate, reverse_charge FROM tax_rates WHERE country = ${country}`,
        )
      : [];
    const amounts = computeInvoice({
      periodStart: period.start,
      periodEnd: period.end,
      segments,
      executions: Number(usage?.runs ?? 0),
      tokens: Number(usage?.tokens ?? 0),
      purchases,
      tax: {
        rate: rate?.rate ?? '0',
        name: rate?.name ?? 'Tax',
        reverseCharge: rate?.reverse_charge ?? false,
        country,
      },
      vatId: org.vat_id,
    });
    const number = await nextNumber(tx, Number(today.slice(0, 4)));
    const [row] = await tx
      .insert(invoices)
      .values({
        organizationId,
        invoiceNumber: number,
        status: 'draft',
        periodStart: period.start,
        periodEnd: period.end,
        subtotal: amounts.subtotal,
        taxRate: amounts.taxRate,
        tax: amounts.tax,
        total: amounts.total,
        taxNote: amounts.taxNote,
        issueDate: today,
        dueDate: addDays(today, PAYMENT_TERMS_DAYS),
        lineItems: amounts.lines,
        billedTo: {
          name: org.name,
          email: org.billing_email,
          address: org.billing_address,
          vatId: org.vat_id,
        },
      })
      .returning();
    await tx.insert(auditLogs).values({
      organizationId,
      entityType: 'invoice',
      entityId: row!.id,
      action: 'generated',
      changes: { after: { invoiceNumber: number, total: amounts.total, status: 'draft' } },
      metadata: { by: 'billing', periodStart: period.start },
    });
    return row!;
  });
}

export interface Actor {
  userId?: string | null;
  apiKeyId?: string | null;
  /** 'job' or 'operator' when no user acts. */
  by?: string;
}

/**
 * Moves an invoice to `to` in the owner transaction `tx`, refusing changes the state machine does not
 * allow (409 `invalid_transition`). Cancelling issues a credit note with its own number.
 */
export async function transition(
  tx: Tx,
  invoice: InvoiceRow,
  to: InvoiceStatus,
  actor: Actor,
  extra: Partial<Pick<InvoiceRow, 'paidDate' | 'sentAt' | 'paymentProvider' | 'paymentTransactionId'>> = {},
): Promise<InvoiceRow> {
  if (invoice.kind !== 'invoice') throw conflict('A credit note does not change status');
  if (!TRANSITIONS[invoice.status].includes(to)) {
    throw new AppError(
      409,
      'invalid_transition',
      `An invoice that is ${invoice.status} cannot become ${to} (allowed: ${TRANSITIONS[invoice.status].join(', ') || 'none'})`,
    );
  }
  const [row] = await tx
    .update(invoices)
    .set({ status: to, updatedAt: new Date(), ...extra })
    .where(and(eq(invoices.id, invoice.id), eq(invoices.status, invoice.status)))
    .returning();
  if (!row) throw conflict('The invoice changed meanwhile: read it again');
  await tx.insert(auditLogs).values({
    organizationId: invoice.organizationId,
    userId: actor.userId ?? null,
    apiKeyId: actor.apiKeyId ?? null,
    entityType: 'invoice',
    entityId: invoice.id,
    action: to === 'cancelled' ? 'cancelled' : `marked_${to}`,
    changes: { before: { status: invoice.status }, after: { status: to } },
    metadata: { invoiceNumber: invoice.invoiceNumber, ...(actor.by ? { by: actor.by } : {}) },
  });
  if (to === 'cancelled') await creditNote(tx, row, actor);
  return row;
}

async function creditNote(tx: Tx, invoice: InvoiceRow, actor: Actor): Promise<void> {
  const today = new Date().toISOString().slice(0, 10);
  const number = await nextNumber(tx, Number(today.slice(0, 4)));
  const neg = (v: string) => (v.startsWith('-') || Number(v) === 0 ? v : `-${v}`);
  const [note] = await tx
    .insert(invoices)
    .values({
      organizationId: invoice.organizationId,
      invoiceNumber: number,
      kind: 'credit_note',
      creditFor: invoice.id,
      status: 'sent',
      periodStart: invoice.periodStart,
      periodEnd: invoice.periodEnd,
      currency: invoice.currency,
      subtotal: neg(invoice.subtotal),
      taxRate: invoice.taxRate,
      tax: neg(invoice.tax),
      total: neg(invoice.total),
      taxNote: invoice.taxNote,
      issueDate: today,
      dueDate: today,
      lineItems: [
        {
          kind: 'credit',
          description: `Credit for invoice ${invoice.invoiceNumber}`,
          quantity: '1',
          unitPrice: neg(invoice.subtotal),
          amount: neg(invoice.subtotal),
        },
      ],
      billedTo: invoice.billedTo,
      sentAt: new Date(),
    })
    .returning();
  await tx.insert(auditLogs).values({
    organizationId: invoice.organizationId,
    userId: actor.userId ?? null,
    apiKeyId: actor.apiKeyId ?? null,
    entityType: 'invoice',
    entityId: note!.id,
    action: 'credit_note_issued',
    changes: { after: { invoiceNumber: number, creditFor: invoice.invoiceNumber, total: note!.total } },
    metadata: actor.by ? { by: actor.by } : {},
  });
}

/** Reads one invoice in the owner transaction, locked for a status change. */
export async function lockInvoice(tx: Tx, id: string): Promise<InvoiceRow> {
  const [row] = await tx.select().from(invoices).where(eq(invoices.id, id)).for('update');
  if (!row) throw notFound('invoice');
  return row;
}

/** Charges an invoice through the payment port; a completed charge marks it paid, a pending one waits. */
export async function payInvoice(
  db: Database,
  payments: PaymentPort,
  invoiceId: string,
  actor: Actor,
): Promise<{ invoice: InvoiceRow; payment: { status: string; transactionId: string } }> {
  return db.system(async (tx) => {
    const inv = await lockInvoice(tx, invoiceId);
    if (!['sent', 'overdue'].includes(inv.status))
      throw badRequest(`Only a sent or overdue invoice can be paid (this one is ${inv.status})`);
    const payment = await payments.charge({
      organizationId: inv.organizationId,
      amount: inv.total,
      currency: inv.currency,
      description: `Invoice ${inv.invoiceNumber}`,
      reference: inv.invoiceNumber,
    });
    if (payment.status === 'completed') {
      const paid = await transition(tx, inv, 'paid', actor, {
        paidDate: new Date().toISOString().slice(0, 10),
        paymentProvider: payments.name,
        paymentTransactionId: payment.transactionId,
      });
      return { invoice: paid, payment };
    }
    const [row] = await tx
      .update(invoices)
      .set({
        paymentProvider: payments.name,
        paymentTransactionId: payment.transactionId,
        updatedAt: new Date(),
      })
      .where(eq(invoices.id, inv.id))
      .returning();
    return { invoice: row!, payment };
  });
}

/** Marks every sent invoice past its due date overdue (the daily job); returns how many. */
export async function markOverdue(db: Database, today: string): Promise<number> {
  return db.system(async (tx) => {
    const due = await tx
      .select()
      .from(invoices)
      .where(
        and(eq(invoices.status, 'sent'), eq(invoices.kind, 'invoice'), sql`${invoices.dueDate} < ${today}`),
      )
      .for('update', { skipLocked: true });
    for (const inv of due) await transition(tx, inv, 'overdue', { by: 'job' });
    return due.length;
  });
}

/**
 * An operator's status change by invoice number (`aiops billing mark-paid|cancel`): paid records the paid
 * date (default today); cancelled issues the credit note. Refuses what `transition` refuses.
 */
export async function setInvoiceStatusByNumber(
  db: Database,
  invoiceNumber: string,
  to: 'paid' | 'cancelled',
  paidDate = new Date().toISOString().slice(0, 10),
): Promise<InvoiceRow> {
  return db.system(async (tx) => {
    const [found] = await tx
      .select({ id: invoices.id })
      .from(invoices)
      .where(eq(invoices.invoiceNumber, invoiceNumber));
    if (!found) throw notFound('invoice', invoiceNumber);
    const inv = await lockInvoice(tx, found.id);
    return transition(tx, inv, to, { by: 'operator' }, to === 'paid' ? { paidDate } : {});
  });
}
