import { z } from 'zod';

const eventTypes = z
  .array(z.string().min(1).max(100))
  .max(50)
  .describe(
    'event types synced: exact names or prefixes ending in * (run.*, agent_task_*); empty: all but step events',
  );
const schedule = {
  intervalSeconds: z
    .number()
    .int()
    .min(1)
    .max(86_400)
    .describe('sync every this many seconds (default 60 when no cron is given)'),
  cron: z.string().trim().min(1).max(100).describe('or: a cron expression (5 or 6 fields), in timezone'),
  timezone: z.string().min(1).max(64).describe('IANA time zone of cron (default UTC)'),
};

export const syncTargetBodySchema = z
  .object({
    name: z.string().trim().min(1).max(255),
    url: z
      .url()
      .max(2000)
      .describe('where batches are POSTed (http or https; the outbound address policy applies)'),
    apiKey: z
      .string()
      .min(1)
      .max(4000)
      .optional()
      .describe("the receiver's API key, sent as `Authorization: Bearer`; stored encrypted, never returned"),
    enabled: z.boolean().default(true),
    eventTypes: eventTypes.default([]),
    intervalSeconds: schedule.intervalSeconds.optional(),
    cron: schedule.cron.optional(),
    timezone: schedule.timezone.default('UTC'),
    batchSize: z.number().int().min(1).max(1000).default(100).describe('events per batch at most'),
  })
  .strict();

export const updateSyncTargetBodySchema = z
  .object({
    name: z.string().trim().min(1).max(255).optional(),
    url: z.url().max(2000).optional(),
    apiKey: z.string().min(1).max(4000).nullable().optional().describe('a new API key; null removes it'),
    enabled: z.boolean().optional(),
    eventTypes: eventTypes.optional(),
    intervalSeconds: schedule.intervalSeconds.optional().describe('switches the schedule to this interval'),
    cron: schedule.cron.optional().describe('switches the schedule to this cron expression'),
    timezone: schedule.timezone.optional(),
    batchSize: z.number().int().min(1).max(1000).optional(),
  })
  .strict();

export const syncTargetSchema = z.object({
  id: z.uuid(),
  name: z.string(),
  url: z.string(),
  /** First and last characters of the API key; the key itself is never returned. */
  apiKeyHint: z.string().nullable(),
  /** First and last characters of the Standard Webhooks signing secret. */
  secretHint: z.string(),
  /** The signing secret, on creation only. */
  secret: z.string().optional(),
  enabled: z.boolean(),
  eventTypes: z.array(z.string()),
  intervalSeconds: z.number().int().nullable(),
  cron: z.string().nullable(),
  timezone: z.string(),
  batchSize: z.number().int(),
  status: z.enum(['pending', 'success', 'failed']),
  lastSyncAt: z.string().nullable(),
  lastError: z.string().nullable(),
  consecutiveFailures: z.number().int(),
  /** The sequence number of the last event delivered (0: none yet, or after a resync). */
  cursorSequence: z.number().int(),
  nextSyncAt: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type SyncTargetDto = z.infer<typeof syncTargetSchema>;

export const syncDeliverySchema = z.object({
  id: z.uuid(),
  kind: z.enum(['batch', 'test']),
  batchId: z.string(),
  eventCount: z.number().int(),
  firstSequence: z.number().int().nullable(),
  lastSequence: z.number().int().nullable(),
  attempt: z.number().int(),
  ok: z.boolean(),
  responseCode: z.number().int().nullable(),
  error: z.string().nullable(),
  durationMs: z.number().int(),
  createdAt: z.string(),
});
export type SyncDeliveryDto = z.infer<typeof syncDeliverySchema>;

export const syncTestResultSchema = z.object({
  ok: z.boolean(),
  responseCode: z.number().int().nullable(),
  error: z.string().nullable(),
  durationMs: z.number().int(),
});
