import type { InvoiceLine } from '@aiops/db';
import PDFDocument from 'pdfkit';

export interface PrintableInvoice {
  invoiceNumber: string;
  kind: string;
  status: string;
  periodStart: string;
  periodEnd: string;
  issueDate: string;
  dueDate: string;
  currency: string;
  subtotal: string;
  taxRate: string;
  tax: string;
  total: string;
  taxNote: string | null;
  lineItems: InvoiceLine[];
  billedTo: Record<string, unknown>;
  creditForNumber?: string | null;
}

const text = (v: unknown) => (typeof v === 'string' ? v : '');

/** Renders an invoice (or credit note) as a PDF with pdfkit's built-in Helvetica; resolves to its bytes. */
export function renderInvoicePdf(inv: PrintableInvoice): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const doc = new PDFDocument({ size: 'A4', margin: 50, info: { Title: inv.invoiceNumber } });
    const chunks: Buffer[] = [];
    doc.on('data', (c: Buffer) => chunks.push(c));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);

    const title = inv.kind === 'credit_note' ? 'Credit note' : 'Invoice';
    doc.font('Helvetica-Bold').fontSize(20).text(`${title} ${inv.invoiceNumber}`);
    doc.moveDown(0.5).font('Helvetica').fontSize(10);
    doc.text('AI Ops Studio');
    if (inv.creditForNumber) doc.text(`Cancels invoice ${inv.creditForNumber}`);
    doc.text(`Issue date: ${inv.issueDate}    Due date: ${inv.dueDate}`);
    doc.text(`Billing period: ${inv.periodStart} to ${inv.periodEnd}`);
    doc.text(`Status: ${inv.status}`);
    doc.moveDown();
    doc.font('Helvetica-Bold').text('Billed to');
    doc.font('Helvetica');
    const b = inv.billedTo;
    const address = (b.address ?? {}) as Record<string, unknown>;
    for (const line of [
      text(b.name),
      text(b.email),
      text(address.line1),
      text(address.line2),
      [text(address.postalCode), text(address.city)].filter(Boolean).join(' '),
      text(address.country),
      b.vatId ? `VAT id: ${text(b.vatId)}` : '',
    ])
      if (line) doc.text(line);
    doc.moveDown();

    const cols = [50, 300, 390, 470];
    const row = (cells: string[], bold = false) => {
      const y = doc.y;
      doc.font(bold ? 'Helvetica-Bold' : 'Helvetica');
      doc.text(cells[0]!, cols[0]!, y, { width: 245 });
      const h = doc.y;
      doc.text(cells[1]!, cols[1]!, y, { width: 85, align: 'right' });
      doc.text(cells[2]!, cols[2]!, y, { width: 75, align: 'right' });
      doc.text(cells[3]!, cols[3]!, y, { width: 75, align: 'right' });
      doc.y = Math.max(h, doc.y) + 4;
      doc.x = cols[0]!;
    };
    row(['Description', 'Quantity', 'Unit price', `Amount (${inv.currency})`], true);
    for (const l of inv.lineItems) row([l.description, l.quantity, l.unitPrice, l.amount]);
    doc.moveDown();
    row(['Subtotal', '', '', inv.subtotal], true);
    row([`Tax (${(Number(inv.taxRate) * 100).toFixed(2)}%)`, '', '', inv.tax]);
    row(['Total', '', '', inv.total], true);
    if (inv.taxNote) {
      doc.moveDown();
      doc.font('Helvetica').text(inv.taxNote, 50, doc.y, { width: 495 });
    }
    doc.end();
  });
}
