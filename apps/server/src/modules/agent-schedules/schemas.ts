import { z } from 'zod';

/** The most a schedule's run input may be, as JSON. */
export const SCHEDULE_INPUT_MAX_BYTES = 64 * 1024;

export const agentIdParams = z.object({ id: z.uuid() });

export const putScheduleBodySchema = z
  .object({
    cron: z.string().trim().min(1).max(255).describe('cron expression, 5 or 6 fields (e.g. "*/15 * * * *")'),
    timezone: z.string().trim().min(1).max(64).default('UTC').describe('IANA time zone, e.g. Europe/Berlin'),
    enabled: z.boolean().default(true),
    webhookUrl: z
      .url()
      .max(2000)
      .optional()
      .describe(
        "external agents: the agent's webhook_url (kept as is when left out); called with a signed POST on every due time",
      ),
    input: z
      .record(z.string(), z.unknown())
      .refine((v) => Buffer.byteLength(JSON.stringify(v)) <= SCHEDULE_INPUT_MAX_BYTES, {
        message: `at most ${SCHEDULE_INPUT_MAX_BYTES / 1024} KiB of JSON`,
      })
      .optional()
      .describe(
        'the input of every scheduled run (llm and code agents; external agents receive it in the call body); kept as is when left out, `{}` at first',
      ),
  })
  .strict();

export const scheduleCallSchema = z.object({
  id: z.uuid(),
  dueAt: z.string().nullable(),
  status: z.string(),
  attempts: z.number().int(),
  responseCode: z.number().int().nullable(),
  reason: z.string().nullable(),
  nextAttemptAt: z.string().nullable(),
  runId: z.uuid().nullable().describe('llm and code agents: the run this due time started'),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export const agentScheduleSchema = z
  .object({
    agentId: z.uuid(),
    kind: z.string().describe('the agent kind: external agents are called, llm and code agents run'),
    cron: z.string().nullable(),
    timezone: z.string(),
    enabled: z.boolean(),
    webhookUrl: z.string().nullable(),
    secretHint: z.string().nullable(),
    secret: z.string().optional().describe('the signing secret, shown only when it is created or rotated'),
    input: z.record(z.string(), z.unknown()).describe('the input of every scheduled run'),
    nextFireTimes: z.array(z.string()).describe('the next five due times'),
    lastFiredAt: z.string().nullable(),
    calls: z
      .array(scheduleCallSchema)
      .describe('the latest firings (external agents: calls; others: runs), newest first'),
  })
  .meta({ id: 'AgentSchedule' });
export type AgentScheduleDto = z.infer<typeof agentScheduleSchema>;
