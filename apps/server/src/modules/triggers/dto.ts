import type { FiringDto, TriggerDto } from '@aiops/contracts';
import type { triggerFirings } from '@aiops/db';
import { nextFireTimes } from './cron.ts';
import type { TriggerRow } from './firing.ts';

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export const HOOK_PATH = '/api/v1/hooks/';

export function triggerDto(row: TriggerRow, secret?: string, now = new Date()): TriggerDto {
  return {
    id: row.id,
    workflowId: row.workflowId,
    name: row.name,
    type: row.type,
    enabled: row.enabled,
    maxConcurrentExecutions: row.maxConcurrentExecutions,
    overflow: row.overflow as 'queue' | 'skip',
    inputMapping: row.inputMapping ?? null,
    schedule:
      row.type === 'schedule'
        ? {
            cron: row.scheduleCron!,
            timezone: row.timezone ?? 'UTC',
            missedFirePolicy: row.missedFirePolicy as 'skip' | 'catchUp',
            catchUpLimit: row.catchUpLimit,
            nextFireAt: iso(row.nextFireAt),
            lastFiredAt: iso(row.lastFiredAt),
            nextFireTimes: nextFireTimes(row.scheduleCron!, row.timezone ?? 'UTC', now, 5).map((d) =>
              d.toISOString(),
            ),
          }
        : null,
    webhook:
      row.type === 'webhook'
        ? {
            hookId: row.hookId!,
            path: `${HOOK_PATH}${row.hookId}`,
            auth: row.webhookAuth as 'standard' | 'bearer' | 'none',
            mode: row.webhookMode as 'async' | 'sync',
            syncTimeoutMs: row.syncTimeoutMs ?? 30_000,
            rateLimitPerMinute: row.rateLimitPerMinute,
            secretHint: row.secretHint,
            ...(secret ? { secret } : {}),
          }
        : null,
    event:
      row.type === 'event'
        ? { type: row.eventType!, source: row.eventSource, filter: row.eventFilter }
        : null,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

export function firingDto(f: typeof triggerFirings.$inferSelect): FiringDto {
  return {
    id: f.id,
    triggerId: f.triggerId,
    status: f.status,
    reason: f.reason,
    dueAt: iso(f.dueAt),
    eventId: f.eventId,
    deliveryId: f.deliveryId,
    runId: f.runId,
    createdAt: f.createdAt.toISOString(),
  };
}
