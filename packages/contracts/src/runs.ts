import { z } from 'zod';
import { versionNumber } from './numbers.ts';

export const RUN_STATUS_VALUES = [
  'queued',
  'pending',
  'running',
  'paused',
  'completed',
  'failed',
  'cancelled',
  'timeout',
] as const;
export const STEP_STATUS_VALUES = [
  'pending',
  'ready',
  'running',
  'waiting',
  'completed',
  'failed',
  'skipped',
  'cancelled',
] as const;

export const startRunBodySchema = z
  .object({
    input: z.unknown().default({}).describe("checked against the workflow's input JSON Schema"),
    version: versionNumber().optional().describe('run this version instead of the current one'),
    wait: z
      .number()
      .min(0)
      .max(300)
      .optional()
      .describe('seconds to wait for the run to finish (201 if it did, else 202)'),
    correlationId: z.uuid().optional().describe('generated when omitted'),
    metadata: z.record(z.string(), z.unknown()).optional(),
  })
  .meta({ id: 'StartRun' });

export const runSchema = z
  .object({
    id: z.uuid(),
    workflowId: z.uuid(),
    workflowVersion: z.number().int(),
    status: z.enum(RUN_STATUS_VALUES),
    statusReason: z.string().nullable().describe('why the status, when `error` does not already say it'),
    error: z.object({ code: z.string(), message: z.string() }).nullable(),
    triggeredBy: z.string(),
    triggeredByUserId: z.string().nullable(),
    triggeredByApiKeyId: z.string().nullable(),
    /** What fired the run: webhook-id, event id, schedule due time or trigger id. */
    externalTriggerId: z.string().nullable(),
    input: z.unknown(),
    output: z.unknown(),
    correlationId: z.uuid(),
    parentExecutionId: z.string().nullable(),
    rerunOfExecutionId: z
      .uuid()
      .nullable()
      .describe('the run this one re-ran from a step (POST /runs/:id/rerun), else null'),
    stepsTotal: z.number().int(),
    stepsCompleted: z.number().int(),
    tokens: z.object({ input: z.number(), output: z.number(), total: z.number() }),
    cost: z.number().describe('estimated USD'),
    createdAt: z.string(),
    startedAt: z.string().nullable(),
    completedAt: z.string().nullable(),
    durationMs: z.number().nullable(),
    metadata: z.record(z.string(), z.unknown()),
    /** In run lists: the run's evaluation scores (run-level and step attempts), null when it has none. */
    scores: z
      .object({
        count: z.number().int(),
        mean: z.number().describe('mean score, 0–100'),
        failed: z.number().int().describe('scores below their threshold'),
      })
      .nullable()
      .optional(),
  })
  .meta({ id: 'Run' });
export type RunDto = z.infer<typeof runSchema>;

export const attemptSchema = z
  .object({
    id: z.uuid(),
    attempt: z.number().int(),
    status: z.string(),
    statusReason: z.string().nullable().describe('why the status, when `error` does not already say it'),
    input: z.unknown(),
    output: z.unknown(),
    model: z.string().nullable(),
    error: z.record(z.string(), z.unknown()).nullable(),
    tokens: z.object({
      input: z.number(),
      output: z.number(),
      cachedInput: z.number(),
      reasoning: z.number(),
      total: z.number(),
      estimated: z.boolean(),
    }),
    cost: z.number(),
    cached: z.boolean(),
    startedAt: z.string().nullable(),
    completedAt: z.string().nullable(),
    durationMs: z.number().nullable(),
    workerId: z.string().nullable(),
  })
  .meta({ id: 'StepAttempt' });

export const stepSchema = z
  .object({
    nodeId: z.string(),
    nodeType: z.string(),
    status: z.enum(STEP_STATUS_VALUES),
    attempts: z.array(attemptSchema),
    output: z.unknown(),
    error: z.record(z.string(), z.unknown()).nullable(),
    startedAt: z.string().nullable(),
    completedAt: z.string().nullable(),
  })
  .meta({ id: 'RunStep' });

export const runDetailSchema = runSchema.extend({ steps: z.array(stepSchema) }).meta({ id: 'RunDetail' });

export const runListQuerySchema = z
  .object({
    limit: z.coerce.number().int().min(1).max(500).default(50),
    cursor: z.string().min(1).max(500).optional(),
    workflowId: z.uuid().optional(),
    status: z.enum(RUN_STATUS_VALUES).optional(),
    correlationId: z.uuid().optional(),
    from: z.iso.datetime({ offset: true }).optional().describe('created at or after'),
    to: z.iso.datetime({ offset: true }).optional().describe('created before'),
    scoreMin: z.coerce
      .number()
      .min(0)
      .max(100)
      .optional()
      .describe('runs with an evaluation score (run or step) at or above this'),
    scoreMax: z.coerce
      .number()
      .min(0)
      .max(100)
      .optional()
      .describe('runs with an evaluation score (run or step) at or below this'),
    passed: z
      .stringbool()
      .optional()
      .describe('true: scored runs whose scores all passed; false: runs with a failed score'),
    evaluator: z
      .string()
      .trim()
      .min(1)
      .max(255)
      .optional()
      .describe(
        'apply the score filters to this evaluator\'s scores only (its name; "human" for manual scores)',
      ),
  })
  .refine((q) => q.scoreMin === undefined || q.scoreMax === undefined || q.scoreMin <= q.scoreMax, {
    message: 'scoreMin must not be above scoreMax',
    path: ['scoreMin'],
  });

export const runEventSchema = z
  .object({
    id: z.string(),
    type: z.string(),
    at: z.string(),
    nodeId: z.string().optional(),
    data: z.record(z.string(), z.unknown()),
  })
  .meta({ id: 'RunEvent' });

export const approveBodySchema = z
  .object({
    approved: z.boolean(),
    comment: z.string().max(10_000).optional(),
  })
  .meta({ id: 'ApprovalDecision' });

export const stepParamsSchema = z.object({
  id: z.uuid(),
  stepId: z.string().min(1).max(64).describe('the node id (or the step id)'),
});

export const rerunBodySchema = z
  .object({
    fromStep: z.string().min(1).max(64).describe('node id: it and everything after it run again'),
    input: z
      .object({ prompt: z.string().max(100_000).optional(), system: z.string().max(100_000).optional() })
      .optional()
      .describe("replaces that step's rendered prompt and/or system prompt (agent nodes)"),
  })
  .meta({ id: 'Rerun' });
