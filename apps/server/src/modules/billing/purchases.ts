import { queryRows, type Tx } from '@aiops/db';
import { sql } from 'drizzle-orm';

export interface PeriodPurchase {
  id: string;
  description: string;
  amount: string;
}

/**
 * The organization's marketplace purchases of the period (`template_purchases`, written by the marketplace
 * module), leaving out failed and refunded ones. Dates are UTC, inclusive. Runs in the invoice's tenant
 * transaction, whose row-level security shows the buyer its own purchases.
 */
export async function purchasesForPeriod(
  tx: Tx,
  organizationId: string,
  periodStart: string,
  periodEnd: string,
): Promise<PeriodPurchase[]> {
  return queryRows<PeriodPurchase>(
    tx,
    sql`SELECT id::text AS id, 'Marketplace: ' || template_name || ' v' || template_version AS description,
          price::text AS amount
        FROM template_purchases
        WHERE organization_id = ${organizationId} AND payment_status NOT IN ('failed', 'refunded')
          AND created_at >= ${periodStart}::date AND created_at < ${periodEnd}::date + 1
        ORDER BY created_at, id`,
  );
}
