import { apiKeys, type Tx } from '@aiops/db';
import { and, desc, eq, isNull } from 'drizzle-orm';
import { after, cursorTime, page } from '../../http/pagination.ts';

export type ApiKeyRow = typeof apiKeys.$inferSelect;

export async function insertApiKey(tx: Tx, values: typeof apiKeys.$inferInsert): Promise<ApiKeyRow> {
  const [row] = await tx.insert(apiKeys).values(values).returning();
  return row!;
}

export async function findApiKey(tx: Tx, id: string): Promise<ApiKeyRow | undefined> {
  const [row] = await tx.select().from(apiKeys).where(eq(apiKeys.id, id));
  return row;
}

export async function listApiKeys(tx: Tx, limit: number, cursor: string | undefined) {
  const rows = await tx
    .select({ row: apiKeys, id: apiKeys.id, cursorT: cursorTime(apiKeys.createdAt) })
    .from(apiKeys)
    .where(after(apiKeys.createdAt, apiKeys.id, cursor))
    .orderBy(desc(apiKeys.createdAt), desc(apiKeys.id))
    .limit(limit + 1);
  return page(rows, limit);
}

export async function revokeApiKey(tx: Tx, id: string): Promise<ApiKeyRow | undefined> {
  const [row] = await tx
    .update(apiKeys)
    .set({ revokedAt: new Date() })
    .where(and(eq(apiKeys.id, id), isNull(apiKeys.revokedAt)))
    .returning();
  return row;
}
