import { listQuerySchema } from '@aiops/contracts';
import { z } from 'zod';

export const agentIdParams = z.object({ id: z.string().uuid() });

const metricsSchema = z
  .record(z.string().min(1).max(64), z.number().finite())
  .refine((m) => Object.keys(m).length <= 50, 'at most 50 metrics per heartbeat')
  .describe('numbers the agent reports about itself, e.g. {"cpu": 0.4, "memory": 512}');

export const heartbeatBodySchema = z
  .object({
    status: z
      .string()
      .trim()
      .min(1)
      .max(50)
      .optional()
      .describe(
        'what the agent says about itself; "error" (or "failed") marks it in error, anything else online',
      ),
    metrics: metricsSchema.optional(),
    version: z.string().trim().min(1).max(100).optional(),
  })
  .strict()
  .nullish()
  .describe('optional: an empty request is a plain heartbeat');

export const monitorSettingsSchema = z
  .object({
    expectedIntervalSeconds: z
      .number()
      .int()
      .min(5)
      .max(86_400)
      .optional()
      .describe('how often the agent promises a heartbeat (default 60)'),
    graceSeconds: z
      .number()
      .int()
      .min(0)
      .max(86_400)
      .optional()
      .describe('how late a heartbeat may be before the agent counts as offline (default 30)'),
  })
  .strict();

export const monitorSchema = z.object({
  agentId: z.string().uuid(),
  agentName: z.string(),
  keyPrefix: z.string(),
  expectedIntervalSeconds: z.number().int(),
  graceSeconds: z.number().int(),
  state: z.enum(['unknown', 'online', 'offline', 'error']),
  stateChangedAt: z.string(),
  lastHeartbeatAt: z.string().nullable(),
  reportedStatus: z.string().nullable(),
  reportedVersion: z.string().nullable(),
  metrics: z.record(z.string(), z.number()),
});
export type MonitorDto = z.infer<typeof monitorSchema>;

export const keyResponseSchema = z.object({
  monitor: monitorSchema,
  key: z.string().describe('the agent key, shown this once: send it as `Authorization: Bearer <key>`'),
});

export const heartbeatResponseSchema = z.object({
  state: z.enum(['online', 'error']),
  nextHeartbeatBefore: z.string(),
});

const isoTime = z.string().datetime({ offset: true });

export const logBodySchema = z
  .object({
    status: z.enum(['success', 'error', 'warning']),
    message: z.string().max(10_000).optional(),
    details: z
      .record(z.string(), z.unknown())
      .refine((d) => JSON.stringify(d).length <= 64_000, 'details must be at most 64 kB of JSON')
      .optional(),
    startedAt: isoTime.optional(),
    completedAt: isoTime.optional(),
    durationMs: z
      .number()
      .int()
      .min(0)
      .max(2_147_483_647)
      .optional()
      .describe('milliseconds; computed from startedAt and completedAt when both are given and this is not'),
  })
  .strict();

export const agentLogSchema = z.object({
  id: z.string().uuid(),
  agentId: z.string().uuid(),
  status: z.enum(['success', 'error', 'warning']),
  message: z.string().nullable(),
  details: z.record(z.string(), z.unknown()).nullable(),
  startedAt: z.string().nullable(),
  completedAt: z.string().nullable(),
  durationMs: z.number().int().nullable(),
  createdAt: z.string(),
});

export const logListQuerySchema = listQuerySchema.extend({
  status: z.enum(['success', 'error', 'warning']).optional(),
});
