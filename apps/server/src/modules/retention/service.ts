import type { RetentionSettings, UpdateRetentionBody } from '@aiops/contracts';
import { organizationRetention, type Tx } from '@aiops/db';
import { eq } from 'drizzle-orm';
import type { FastifyRequest } from 'fastify';
import { authOf } from '../../http/auth.ts';
import { audit, tenant } from '../../http/tenant.ts';
import { RETENTION_DEFAULTS } from './partitioned-tables.ts';

type Row = typeof organizationRetention.$inferSelect;

function dto(row: Row | undefined): RetentionSettings {
  return {
    logsDays: row?.logsDays ?? RETENTION_DEFAULTS.logsDays,
    metricsDays: row?.metricsDays ?? RETENTION_DEFAULTS.metricsDays,
    executionsDays: row?.executionsDays ?? RETENTION_DEFAULTS.executionsDays,
    defaults: { ...RETENTION_DEFAULTS },
    custom: row !== undefined,
    updatedAt: row ? row.updatedAt.toISOString() : null,
  };
}

const current = async (tx: Tx, organizationId: string) =>
  (
    await tx
      .select()
      .from(organizationRetention)
      .where(eq(organizationRetention.organizationId, organizationId))
  )[0];

/** The organization's retention periods (the defaults until an owner changes them). */
export function getRetention(request: FastifyRequest): Promise<RetentionSettings> {
  return tenant(request, async (tx) => dto(await current(tx, authOf(request).organizationId)));
}

/** Changes some retention periods (owners: `retention:manage`); audited with before and after. */
export function updateRetention(
  request: FastifyRequest,
  body: UpdateRetentionBody,
): Promise<RetentionSettings> {
  const auth = authOf(request);
  return tenant(request, async (tx) => {
    const before = dto(await current(tx, auth.organizationId));
    const values = {
      logsDays: body.logsDays ?? before.logsDays,
      metricsDays: body.metricsDays ?? before.metricsDays,
      executionsDays: body.executionsDays ?? before.executionsDays,
      updatedBy: auth.userId ?? null,
      updatedAt: new Date(),
    };
    const [row] = await tx
      .insert(organizationRetention)
      .values({ organizationId: auth.organizationId, ...values })
      .onConflictDoUpdate({ target: organizationRetention.organizationId, set: values })
      .returning();
    const after = dto(row);
    const pick = (r: RetentionSettings) => ({
      logsDays: r.logsDays,
      metricsDays: r.metricsDays,
      executionsDays: r.executionsDays,
    });
    await audit(tx, request, {
      entityType: 'retention',
      entityId: auth.organizationId,
      action: 'updated',
      before: pick(before),
      after: pick(after),
    });
    return after;
  });
}
