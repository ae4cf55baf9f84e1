import { type Database, invoices, queryRows } from '@aiops/db';
import { eq, sql } from 'drizzle-orm';
import type { Mailer } from '../../services/mailer.ts';
import { renderInvoicePdf } from './invoice-pdf.ts';
import { type Actor, type InvoiceRow, lockInvoice, transition } from './invoices.ts';

/** The PDF of an invoice or credit note (rendered on demand from the stored row). */
export async function invoicePdf(db: Database, inv: InvoiceRow): Promise<Buffer> {
  let creditForNumber: string | null = null;
  if (inv.creditFor) {
    const [orig] = await db.system((tx) =>
      tx.select({ n: invoices.invoiceNumber }).from(invoices).where(eq(invoices.id, inv.creditFor!)),
    );
    creditForNumber = orig?.n ?? null;
  }
  return renderInvoicePdf({ ...inv, creditForNumber });
}

/**
 * Sends a draft: marks it sent (audited) and mails its PDF to the billing email, else to the
 * organization's owners. The status change commits first; a mail that fails is logged by the mailer.
 */
export async function sendInvoice(
  db: Database,
  mailer: Mailer,
  invoiceId: string,
  actor: Actor,
): Promise<InvoiceRow> {
  const sent = await db.system(async (tx) => {
    const inv = await lockInvoice(tx, invoiceId);
    return transition(tx, inv, 'sent', actor, { sentAt: new Date() });
  });
  const to = await recipients(db, sent);
  const pdf = await invoicePdf(db, sent);
  for (const address of to) {
    await mailer.send({
      to: address,
      subject: `Invoice ${sent.invoiceNumber} from AI Ops Studio`,
      text: [
        `Invoice ${sent.invoiceNumber} for ${sent.periodStart} to ${sent.periodEnd}.`,
        `Total: ${sent.total} ${sent.currency}, due ${sent.dueDate}.`,
        'The invoice is attached as a PDF and can be downloaded from the billing page of the studio.',
      ].join('\n'),
      attachments: [{ filename: `${sent.invoiceNumber}.pdf`, content: pdf, contentType: 'application/pdf' }],
    });
  }
  return sent;
}

async function recipients(db: Database, inv: InvoiceRow): Promise<string[]> {
  const email = typeof inv.billedTo.email === 'string' ? inv.billedTo.email : null;
  if (email) return [email];
  const owners = await db.system((tx) =>
    queryRows<{ email: string }>(
      tx,
      sql`SELECT u.email FROM memberships m JOIN users u ON u.id = m.user_id
          WHERE m.organization_id = ${inv.organizationId} AND m.role = 'owner' ORDER BY u.email LIMIT 5`,
    ),
  );
  return owners.map((o) => o.email);
}
