import { agentExecutions, type Executor, integrations, type Tx } from '@aiops/db';
import { and, asc, desc, eq, like, ne, type SQL, sql } from 'drizzle-orm';
import { after, cursorTime, page } from '../../http/pagination.ts';

export type IntegrationRow = typeof integrations.$inferSelect;

export async function insertIntegration(
  tx: Tx,
  values: typeof integrations.$inferInsert,
): Promise<IntegrationRow> {
  const [row] = await tx.insert(integrations).values(values).returning();
  return row!;
}

export async function findIntegration(tx: Executor, id: string): Promise<IntegrationRow | undefined> {
  const [row] = await tx.select().from(integrations).where(eq(integrations.id, id));
  return row;
}

/** The integration used for `provider` when an agent names none: the default, else the oldest. */
export async function defaultIntegration(
  tx: Executor,
  provider: string,
): Promise<IntegrationRow | undefined> {
  const [row] = await tx
    .select()
    .from(integrations)
    .where(and(eq(integrations.provider, provider), eq(integrations.category, 'llm_provider')))
    .orderBy(desc(integrations.isDefault), asc(integrations.createdAt))
    .limit(1);
  return row;
}

export async function countForProvider(tx: Tx, provider: string): Promise<number> {
  const [row] = await tx
    .select({ n: sql<number>`count(*)::int` })
    .from(integrations)
    .where(eq(integrations.provider, provider));
  return row?.n ?? 0;
}

export async function listIntegrations(
  tx: Tx,
  query: {
    limit: number;
    cursor?: string | undefined;
    provider?: string | undefined;
    status?: string | undefined;
  },
) {
  const filters: (SQL | undefined)[] = [after(integrations.createdAt, integrations.id, query.cursor)];
  if (query.provider) filters.push(eq(integrations.provider, query.provider));
  if (query.status) filters.push(eq(integrations.status, query.status as IntegrationRow['status']));
  const rows = await tx
    .select({ row: integrations, id: integrations.id, cursorT: cursorTime(integrations.createdAt) })
    .from(integrations)
    .where(and(...filters))
    .orderBy(desc(integrations.createdAt), desc(integrations.id))
    .limit(query.limit + 1);
  return page(rows, query.limit);
}

export async function updateIntegration(
  tx: Tx,
  id: string,
  values: Partial<typeof integrations.$inferInsert>,
): Promise<IntegrationRow | undefined> {
  const [row] = await tx
    .update(integrations)
    .set({ ...values, updatedAt: new Date() })
    .where(eq(integrations.id, id))
    .returning();
  return row;
}

/** Makes `id` the only default of its provider (the partial unique index allows one). */
export async function clearOtherDefaults(tx: Tx, provider: string, id: string): Promise<void> {
  await tx
    .update(integrations)
    .set({ isDefault: false })
    .where(
      and(eq(integrations.provider, provider), ne(integrations.id, id), eq(integrations.isDefault, true)),
    );
}

export async function deleteIntegration(tx: Tx, id: string): Promise<IntegrationRow | undefined> {
  const [row] = await tx.delete(integrations).where(eq(integrations.id, id)).returning();
  return row;
}

/** After a delete: the oldest remaining integration of the provider becomes its default. */
export async function promoteDefault(tx: Tx, provider: string): Promise<void> {
  const next = await defaultIntegration(tx, provider);
  if (next && !next.isDefault)
    await tx.update(integrations).set({ isDefault: true }).where(eq(integrations.id, next.id));
}

/** One model call made with this integration's credentials: atomic increments. */
export async function recordUsage(
  tx: Tx,
  id: string,
  usage: { inputTokens: number; outputTokens: number; totalTokens: number; costUsd: string },
): Promise<void> {
  await tx
    .update(integrations)
    .set({
      totalRequests: sql`${integrations.totalRequests} + 1`,
      inputTokens: sql`${integrations.inputTokens} + ${usage.inputTokens}`,
      outputTokens: sql`${integrations.outputTokens} + ${usage.outputTokens}`,
      totalTokens: sql`${integrations.totalTokens} + ${usage.totalTokens}`,
      totalCost: sql`${integrations.totalCost} + ${usage.costUsd}::numeric`,
      lastUsedAt: new Date(),
    })
    .where(eq(integrations.id, id));
}

/** Step attempts on `provider`'s models in this organization, per model. */
export async function usageByModel(tx: Tx, provider: string) {
  const rows = await tx
    .select({
      model: agentExecutions.model,
      calls: sql<number>`count(*)::int`,
      inputTokens: sql<number>`coalesce(sum(${agentExecutions.inputTokens}), 0)::bigint`,
      outputTokens: sql<number>`coalesce(sum(${agentExecutions.outputTokens}), 0)::bigint`,
      totalTokens: sql<number>`coalesce(sum(${agentExecutions.totalTokens}), 0)::bigint`,
      costUsd: sql<string>`coalesce(sum(${agentExecutions.estimatedCost}), 0)::text`,
    })
    .from(agentExecutions)
    .where(like(agentExecutions.model, `${provider.replace(/[%_\\]/g, '\\$&')}:%`))
    .groupBy(agentExecutions.model)
    .orderBy(agentExecutions.model);
  return rows.map((r) => ({
    model: r.model ?? '',
    calls: Number(r.calls),
    inputTokens: Number(r.inputTokens),
    outputTokens: Number(r.outputTokens),
    totalTokens: Number(r.totalTokens),
    costUsd: r.costUsd,
  }));
}
