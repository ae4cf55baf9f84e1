import { z } from 'zod';
import { listQuerySchema } from './pagination.ts';

export const auditLogSchema = z
  .object({
    id: z.uuid(),
    userId: z.uuid().nullable(),
    apiKeyId: z.uuid().nullable(),
    entityType: z.string(),
    entityId: z.string().nullable(),
    action: z.string(),
    changes: z
      .object({
        before: z.record(z.string(), z.unknown()).optional(),
        after: z.record(z.string(), z.unknown()).optional(),
      })
      .nullable()
      .describe(
        'before/after values, only the sides the change has (null when neither, e.g. a sign-in); secrets and personal data are masked',
      ),
    metadata: z
      .record(z.string(), z.unknown())
      .describe('what else the action recorded, e.g. a sign-in: {method, mfa}'),
    ipAddress: z.string().nullable(),
    userAgent: z.string().nullable(),
    requestId: z.string().nullable(),
    createdAt: z.string(),
  })
  .meta({ id: 'AuditLog' });
export type AuditLogDto = z.infer<typeof auditLogSchema>;

export const auditLogQuerySchema = listQuerySchema.extend({
  entityType: z.string().min(1).max(100).optional(),
  entityId: z.string().min(1).max(64).optional(),
  action: z.string().min(1).max(100).optional(),
  userId: z.uuid().optional(),
  apiKeyId: z.uuid().optional(),
  from: z.iso.datetime({ offset: true }).optional().describe('created at or after (ISO 8601)'),
  to: z.iso.datetime({ offset: true }).optional().describe('created before (ISO 8601)'),
});
