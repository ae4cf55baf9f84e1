import { z } from 'zod';
import { listQuerySchema } from './pagination.ts';

/** Bounded JSON-ish value for input mappings (each string may hold `{{input.…}}` templates). */
const mapping = z.unknown().refine((v) => JSON.stringify(v ?? null).length <= 20_000, {
  message: 'the input mapping is over 20,000 characters of JSON',
});

const common = {
  name: z.string().trim().min(1).max(255),
  enabled: z.boolean().optional(),
  maxConcurrentExecutions: z.number().int().min(1).max(1000).nullable().optional(),
  overflow: z.enum(['queue', 'skip']).optional(),
  inputMapping: mapping.nullable().optional(),
};

export const scheduleFieldsSchema = z.object({
  cron: z.string().trim().min(1).max(255),
  timezone: z.string().trim().min(1).max(64).default('UTC'),
  missedFirePolicy: z.enum(['skip', 'catchUp']).default('skip'),
  catchUpLimit: z.number().int().min(1).max(100).default(10),
});

export const webhookFieldsSchema = z.object({
  auth: z.enum(['standard', 'bearer', 'none']).default('standard'),
  mode: z.enum(['async', 'sync']).default('async'),
  syncTimeoutMs: z.number().int().min(100).max(120_000).default(30_000),
  rateLimitPerMinute: z
    .number()
    .int()
    .min(1)
    .max(1_000_000)
    .nullable()
    .default(600)
    .describe('requests per minute this URL accepts (429 with Retry-After over it); null: no limit'),
});

export const eventFieldsSchema = z.object({
  type: z.string().trim().min(1).max(255),
  source: z.string().trim().min(1).max(255).nullable().optional(),
  filter: z.string().trim().min(1).max(4000).nullable().optional(),
});

export const createTriggerBodySchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('schedule'), ...common, schedule: scheduleFieldsSchema }),
  z.object({ type: z.literal('webhook'), ...common, webhook: webhookFieldsSchema.prefault({}) }),
  z.object({ type: z.literal('event'), ...common, event: eventFieldsSchema }),
]);
export type CreateTriggerBody = z.infer<typeof createTriggerBodySchema>;

export const updateTriggerBodySchema = z.object({
  name: common.name.optional(),
  enabled: z.boolean().optional(),
  maxConcurrentExecutions: common.maxConcurrentExecutions,
  overflow: common.overflow,
  inputMapping: common.inputMapping,
  schedule: scheduleFieldsSchema.partial().optional(),
  // Spelled out (no defaults): a change of one field must not reset the others.
  webhook: z
    .object({
      auth: z.enum(['standard', 'bearer', 'none']).optional(),
      mode: z.enum(['async', 'sync']).optional(),
      syncTimeoutMs: z.number().int().min(100).max(120_000).optional(),
      rateLimitPerMinute: z.number().int().min(1).max(1_000_000).nullable().optional(),
    })
    .optional(),
  event: eventFieldsSchema.partial().optional(),
});
export type UpdateTriggerBody = z.infer<typeof updateTriggerBodySchema>;

export const triggerSchema = z.object({
  id: z.uuid(),
  workflowId: z.uuid(),
  name: z.string(),
  type: z.enum(['schedule', 'webhook', 'event']),
  enabled: z.boolean(),
  maxConcurrentExecutions: z.number().int().nullable(),
  overflow: z.enum(['queue', 'skip']),
  inputMapping: z.unknown().nullable(),
  schedule: z
    .object({
      cron: z.string(),
      timezone: z.string(),
      missedFirePolicy: z.enum(['skip', 'catchUp']),
      catchUpLimit: z.number().int(),
      nextFireAt: z.string().nullable(),
      lastFiredAt: z.string().nullable(),
      /** The next five fire times (ISO, UTC). */
      nextFireTimes: z.array(z.string()),
    })
    .nullable(),
  webhook: z
    .object({
      hookId: z.string(),
      /** Path of the hook under the server's address. */
      path: z.string(),
      auth: z.enum(['standard', 'bearer', 'none']),
      mode: z.enum(['async', 'sync']),
      syncTimeoutMs: z.number().int(),
      rateLimitPerMinute: z.number().int().nullable(),
      secretHint: z.string().nullable(),
      /** Only in the answer that created or rotated it: shown once. */
      secret: z.string().optional(),
    })
    .nullable(),
  event: z
    .object({ type: z.string(), source: z.string().nullable(), filter: z.string().nullable() })
    .nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type TriggerDto = z.infer<typeof triggerSchema>;

export const firingSchema = z.object({
  id: z.uuid(),
  triggerId: z.uuid().nullable(),
  status: z.enum(['starting', 'started', 'queued', 'done', 'skipped', 'failed']),
  reason: z.string().nullable(),
  dueAt: z.string().nullable(),
  eventId: z.uuid().nullable(),
  deliveryId: z.string().nullable(),
  runId: z.uuid().nullable(),
  createdAt: z.string(),
});
export type FiringDto = z.infer<typeof firingSchema>;

export const cronPreviewQuerySchema = z.object({
  cron: z.string().trim().min(1).max(255),
  timezone: z.string().trim().min(1).max(64).default('UTC'),
  count: z.coerce.number().int().min(1).max(20).default(5),
});
export const cronPreviewSchema = z.object({ times: z.array(z.string()) });

export const hookParamsSchema = z.object({ hookId: z.string().min(1).max(64) });
export const hookResponseSchema = z.object({
  runId: z.uuid().nullable(),
  status: z.string(),
  firingId: z.uuid(),
  output: z.unknown().optional(),
});

/** `POST /events` (CloudEvents-like). */
export const postEventBodySchema = z.object({
  id: z.string().trim().min(1).max(255).optional(),
  type: z.string().trim().min(1).max(255),
  source: z.string().trim().min(1).max(255),
  data: z.unknown().optional(),
});
export const eventSchema = z.object({
  id: z.uuid(),
  externalId: z.string(),
  type: z.string(),
  source: z.string(),
  data: z.unknown(),
  receivedAt: z.string(),
  triggersMatched: z.number().int(),
  runs: z.array(z.object({ triggerId: z.uuid().nullable(), runId: z.uuid().nullable(), status: z.string() })),
});
export type EventDto = z.infer<typeof eventSchema>;
export const postEventResponseSchema = eventSchema.extend({ duplicate: z.boolean() });
export const eventListQuerySchema = listQuerySchema.extend({
  type: z.string().max(255).optional(),
});

export const sinkBodySchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('webhook'),
    name: z.string().trim().min(1).max(255),
    url: z.url().max(2000),
    eventTypes: z.array(z.string().min(1).max(100)).max(50).default([]),
    enabled: z.boolean().default(true),
  }),
  z.object({
    kind: z.literal('nats'),
    name: z.string().trim().min(1).max(255),
    subjectPrefix: z
      .string()
      .regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/, 'dot-separated tokens of letters, digits, _ and -')
      .max(100)
      .default('aiops'),
    eventTypes: z.array(z.string().min(1).max(100)).max(50).default([]),
    enabled: z.boolean().default(true),
  }),
]);
export const updateSinkBodySchema = z.object({
  name: z.string().trim().min(1).max(255).optional(),
  url: z.url().max(2000).optional(),
  subjectPrefix: z
    .string()
    .regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/)
    .max(100)
    .optional(),
  eventTypes: z.array(z.string().min(1).max(100)).max(50).optional(),
  enabled: z.boolean().optional(),
});
export const sinkSchema = z.object({
  id: z.uuid(),
  name: z.string(),
  kind: z.enum(['webhook', 'nats']),
  url: z.string().nullable(),
  subjectPrefix: z.string().nullable(),
  eventTypes: z.array(z.string()),
  enabled: z.boolean(),
  consecutiveFailures: z.number().int(),
  disabledReason: z.string().nullable(),
  secretHint: z.string().nullable(),
  secret: z.string().optional(),
  /** After a rotation: until then deliveries carry a signature with the replaced secret too. */
  previousSecretExpiresAt: z.string().nullable(),
  createdAt: z.string(),
});
export type SinkDto = z.infer<typeof sinkSchema>;
export const rotateSinkSecretBodySchema = z
  .object({
    graceSeconds: z
      .number()
      .int()
      .min(0)
      .max(604_800)
      .default(86_400)
      .describe(
        'how long the replaced secret still signs deliveries beside the new one (default a day, at most 7)',
      ),
  })
  .strict();
export const deliverySchema = z.object({
  id: z.uuid(),
  sinkId: z.uuid(),
  outboxId: z.uuid(),
  eventType: z.string(),
  status: z.enum(['pending', 'delivered', 'failed']),
  attempts: z.number().int(),
  nextAttemptAt: z.string(),
  responseCode: z.number().int().nullable(),
  lastError: z.string().nullable(),
  durationMs: z.number().nullable(),
  deliveredAt: z.string().nullable(),
  createdAt: z.string(),
});
export type DeliveryDto = z.infer<typeof deliverySchema>;
