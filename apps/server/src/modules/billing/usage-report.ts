import type { UsageReport } from '@aiops/contracts';
import { queryRows, type Tx } from '@aiops/db';
import { type SQL, sql } from 'drizzle-orm';

type GroupBy = 'type' | 'day' | 'workflow' | 'apiKey';

const KEY: Record<GroupBy, SQL> = {
  type: sql`usage_type`,
  day: sql`to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')`,
  workflow: sql`workflow_id::text`,
  apiKey: sql`api_key_id::text`,
};

interface Row {
  key: string | null;
  type: string | null;
  records: string;
  quantity: string;
  cost: string;
  input_tokens: string;
  output_tokens: string;
  cached_tokens: string;
}

const MEASURES = sql`count(*)::text AS records, coalesce(sum(quantity), 0)::text AS quantity,
  coalesce(sum(total_cost), 0)::text AS cost, coalesce(sum(input_tokens), 0)::text AS input_tokens,
  coalesce(sum(output_tokens), 0)::text AS output_tokens, coalesce(sum(cached_tokens), 0)::text AS cached_tokens`;

const totals = (r: Row) => ({
  records: Number(r.records),
  quantity: Number(r.quantity),
  cost: r.cost,
  inputTokens: Number(r.input_tokens),
  outputTokens: Number(r.output_tokens),
  cachedTokens: Number(r.cached_tokens),
});

/**
 * The ledger's rows between `from` and `to` (by when the usage happened), grouped; the total is computed
 * from the same rows, so it equals the sum of the groups. Groups other than `type` are split by type too
 * (a workflow's runs and its tokens are different units).
 */
export async function usageReport(
  tx: Tx,
  q: { groupBy: GroupBy; from: Date; to: Date; type?: string | undefined },
): Promise<UsageReport> {
  const where = sql`occurred_at >= ${q.from} AND occurred_at < ${q.to} ${q.type ? sql`AND usage_type = ${q.type}` : sql``}`;
  const byType = q.groupBy !== 'type';
  const rows = await queryRows<Row>(
    tx,
    sql`SELECT ${KEY[q.groupBy]} AS key, ${byType ? sql`usage_type` : sql`NULL::text`} AS type, ${MEASURES}
        FROM usage_records WHERE ${where} GROUP BY 1, 2 ORDER BY 1 ASC NULLS LAST, 2 ASC`,
  );
  const [total] = await queryRows<Row>(
    tx,
    sql`SELECT NULL AS key, NULL AS type, ${MEASURES} FROM usage_records WHERE ${where}`,
  );
  return {
    groupBy: q.groupBy,
    from: q.from.toISOString(),
    to: q.to.toISOString(),
    total: totals(total!),
    groups: rows.map((r) => ({ key: r.key, type: r.type, ...totals(r) })),
  };
}
