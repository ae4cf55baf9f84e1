import { loadConfig } from '@aiops/config';
import { openDb } from '@aiops/db';
import { databaseOptions, setInvoiceStatusByNumber, usageByOrganization } from '@aiops/server';

interface BillingOptions {
  dataDir?: string;
  date?: string;
}

/**
 * `aiops billing mark-paid <number>` and `aiops billing cancel <number>`: an operator's invoice status
 * changes (a transfer arrived; an invoice withdrawn, which issues a credit note). Audit-logged; a change the
 * invoice's status does not allow is refused with exit code 1.
 */
export async function setInvoiceStatus(
  invoiceNumber: string,
  to: 'paid' | 'cancelled',
  options: BillingOptions,
): Promise<void> {
  if (options.date !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(options.date)) {
    process.stderr.write('aiops: --date must be YYYY-MM-DD\n');
    process.exitCode = 1;
    return;
  }
  const config = loadConfig(undefined, options.dataDir !== undefined ? { dataDir: options.dataDir } : {});
  const db = await openDb(databaseOptions(config));
  try {
    const inv = await setInvoiceStatusByNumber(db, invoiceNumber, to, options.date);
    process.stdout.write(`aiops: invoice ${inv.invoiceNumber} is ${inv.status}\n`);
  } catch (e) {
    const status = (e as { status?: number }).status;
    if (typeof status !== 'number' || status >= 500) throw e;
    process.stderr.write(`aiops: ${(e as Error).message}\n`);
    process.exitCode = 1;
  } finally {
    await db.close();
  }
}

/** `aiops billing usage [--month YYYY-MM]`: every organization's usage in a month (default this one), from the ledger. */
export async function billingUsage(options: {
  dataDir?: string;
  month?: string;
  json?: boolean;
}): Promise<void> {
  const month = options.month ?? new Date().toISOString().slice(0, 7);
  if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(month)) {
    process.stderr.write('aiops: --month must be YYYY-MM\n');
    process.exitCode = 1;
    return;
  }
  const config = loadConfig(undefined, options.dataDir !== undefined ? { dataDir: options.dataDir } : {});
  const db = await openDb(databaseOptions(config));
  try {
    const rows = await usageByOrganization(db, `${month}-01`);
    if (options.json) {
      process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
      return;
    }
    process.stdout.write(`usage in ${month} (UTC), from the ledger\n`);
    process.stdout.write('organization\ttier\truns\ttokens\tAPI calls\tmessages\tmodel cost (USD)\n');
    for (const r of rows) {
      process.stdout.write(
        `${r.name} (${r.organizationId})\t${r.tier}\t${r.runs}\t${r.tokens}\t${r.apiCalls}\t${r.messages}\t${r.modelCost}\n`,
      );
    }
  } finally {
    await db.close();
  }
}
