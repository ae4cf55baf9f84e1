import { auditLogs, type Tx } from '@aiops/db';
import { and, desc, eq, gte, lt, type SQL } from 'drizzle-orm';
import { after, cursorTime, page } from '../../http/pagination.ts';

export type AuditLogRow = typeof auditLogs.$inferSelect;

export interface AuditFilter {
  entityType?: string | undefined;
  entityId?: string | undefined;
  action?: string | undefined;
  userId?: string | undefined;
  apiKeyId?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
}

export async function listAuditLogs(tx: Tx, f: AuditFilter, limit: number, cursor: string | undefined) {
  const conditions: (SQL | undefined)[] = [
    f.entityType ? eq(auditLogs.entityType, f.entityType) : undefined,
    f.entityId ? eq(auditLogs.entityId, f.entityId) : undefined,
    f.action ? eq(auditLogs.action, f.action) : undefined,
    f.userId ? eq(auditLogs.userId, f.userId) : undefined,
    f.apiKeyId ? eq(auditLogs.apiKeyId, f.apiKeyId) : undefined,
    f.from ? gte(auditLogs.createdAt, new Date(f.from)) : undefined,
    f.to ? lt(auditLogs.createdAt, new Date(f.to)) : undefined,
    after(auditLogs.createdAt, auditLogs.id, cursor),
  ];
  const rows = await tx
    .select({ row: auditLogs, id: auditLogs.id, cursorT: cursorTime(auditLogs.createdAt) })
    .from(auditLogs)
    .where(and(...conditions))
    .orderBy(desc(auditLogs.createdAt), desc(auditLogs.id))
    .limit(limit + 1);
  return page(rows, limit);
}

export async function findAuditLog(tx: Tx, id: string): Promise<AuditLogRow | undefined> {
  const [row] = await tx.select().from(auditLogs).where(eq(auditLogs.id, id));
  return row;
}
