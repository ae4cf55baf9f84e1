import { queryRows, type Tx } from '@aiops/db';
import { sql } from 'drizzle-orm';

export interface PeriodPurchase {
  id: string;
  description: string;
  amount: string;
}

/**
 * SEAM until the marketplace (catalog branch) is merged: its `purchasesForPeriod` is to replace this body.
 * Reads the organization's marketplace purchases of the period from `template_purchases` when that table
 * exists (and none when it does not), leaving out failed and refunded ones. Dates are UTC, inclusive.
 */
export async function purchasesForPeriod(
  tx: Tx,
  organizationId: string,
  periodStart: string,
  periodEnd: string,
): Promise<PeriodPurchase[]> {
  const [exists] = await queryRows<{ t: string | null }>(
    tx,
    sql`SELECT to_regclass('public.template_purchases')::text AS t`,
  );
  if (!exists?.t) return [];
  return queryRows<PeriodPurchase>(
    tx,
    sql`SELECT id::text AS id, 'Marketplace: ' || template_name || ' v' || template_version AS description,
          price::text AS amount
        FROM template_purchases
        WHERE organization_id = ${organizationId} AND payment_status NOT IN ('failed', 'refunded')
          AND purchased_at >= ${periodStart}::date AND purchased_at < ${periodEnd}::date + 1
        ORDER BY purchased_at, id`,
  );
}
