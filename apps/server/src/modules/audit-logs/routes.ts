import {
  type AuditLogDto,
  auditLogQuerySchema,
  auditLogSchema,
  idParamsSchema,
  listResponse,
} from '@aiops/contracts';
import { notFound } from '@aiops/core';
import { maskRecord } from '../../http/mask.ts';
import { presentChanges, tenant } from '../../http/tenant.ts';
import type { AppModule } from '../../module.ts';
import { type AuditLogRow, findAuditLog, listAuditLogs } from './repo.ts';

const tags = ['audit'];

function toDto(r: AuditLogRow): AuditLogDto {
  return {
    id: r.id,
    userId: r.userId,
    apiKeyId: r.apiKeyId,
    entityType: r.entityType,
    entityId: r.entityId,
    action: r.action,
    changes: presentChanges(r.changes),
    metadata: maskRecord(r.metadata) ?? {},
    ipAddress: r.ipAddress,
    userAgent: r.userAgent,
    requestId: r.requestId,
    createdAt: r.createdAt.toISOString(),
  };
}

/** The audit log: one row per change, newest first, filtered; read-only (rows are append-only). */
export const auditLogsModule: AppModule = () => async (app) => {
  app.get(
    '/audit-logs',
    {
      config: { permission: 'audit:read' },
      schema: {
        tags,
        summary: 'Audit rows, newest first, with filters and cursor pagination',
        querystring: auditLogQuerySchema,
        response: { 200: listResponse(auditLogSchema) },
      },
    },
    async (request) => {
      const { limit, cursor, ...filter } = request.query;
      const p = await tenant(request, (tx) => listAuditLogs(tx, filter, limit, cursor));
      return { data: p.data.map((r) => toDto(r.row)), nextCursor: p.nextCursor };
    },
  );
  app.get(
    '/audit-logs/:id',
    {
      config: { permission: 'audit:read' },
      schema: { tags, summary: 'One audit row', params: idParamsSchema, response: { 200: auditLogSchema } },
    },
    async (request) => {
      const row = await tenant(request, (tx) => findAuditLog(tx, request.params.id));
      if (!row) throw notFound('audit_log', request.params.id);
      return toDto(row);
    },
  );
};
