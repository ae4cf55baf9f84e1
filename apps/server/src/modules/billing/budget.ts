import { queryRows, type Tx } from '@aiops/db';
import { sql } from 'drizzle-orm';

export interface MonthlyBudget {
  /** settings.monthlyBudgetUsd; null when the organization has no monthly budget. */
  budgetUsd: number | null;
  /** Model spend of the current month (`monthly_cost_used`, zero once the reset date has passed). */
  spentUsd: number;
}

/**
 * The organization's monthly budget and what it has spent this month, as budgets are enforced (the step
 * lease `aiops_lease_steps` and the gateway read the same columns): the spend is kept by
 * `aiops_add_org_cost` and counts for nothing once `monthly_reset_date` has passed (a new month).
 * Without `organizationId`, the organization of the tenant transaction (row-level security).
 */
export async function monthlyBudget(tx: Tx, organizationId?: string): Promise<MonthlyBudget> {
  const [row] = await queryRows<{ budget: string | null; spent: string | null }>(
    tx,
    sql`SELECT (settings->>'monthlyBudgetUsd') AS budget,
          CASE WHEN monthly_reset_date IS NULL OR monthly_reset_date <= now()::date THEN 0
               ELSE monthly_cost_used END AS spent
        FROM organizations ${organizationId ? sql`WHERE id = ${organizationId}::uuid` : sql``}
        LIMIT 1`,
  );
  const budget = row?.budget;
  return {
    budgetUsd: budget === null || budget === undefined ? null : Number(budget),
    spentUsd: Number(row?.spent ?? 0),
  };
}
