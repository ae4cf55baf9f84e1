import { z } from 'zod';

const window = z.number().int().min(1).max(10_080).default(60).describe('trailing window in minutes');
const minSamples = (d: number) =>
  z
    .number()
    .int()
    .min(1)
    .max(100_000)
    .default(d)
    .describe('fewer results in the window neither fire nor clear');

export const conditionSchema = z.discriminatedUnion('kind', [
  z
    .object({ kind: z.literal('agent_offline') })
    .strict()
    .describe('heartbeat missing (agents only)'),
  z.object({ kind: z.literal('consecutive_failures'), count: z.number().int().min(1).max(100) }).strict(),
  z
    .object({
      kind: z.literal('error_rate'),
      threshold: z.number().min(0).max(100).describe('percent of failed results'),
      windowMinutes: window,
      minSamples: minSamples(10),
    })
    .strict(),
  z
    .object({
      kind: z.literal('p95_latency'),
      threshold: z.number().int().min(1).max(86_400_000).describe('milliseconds'),
      windowMinutes: window,
      minSamples: minSamples(10),
    })
    .strict(),
  z
    .object({
      kind: z.literal('cost'),
      threshold: z
        .number()
        .min(0)
        .max(1_000_000_000)
        .describe(
          "estimated cost in the window: of the runs (workflow, organization) or of the agent's step attempts",
        ),
      windowMinutes: window.describe('60 for cost per hour, 1440 for cost per day'),
      minSamples: minSamples(1),
    })
    .strict()
    .describe('cost per hour/day above X: an agent (its workflow steps), a workflow or the organization'),
  z
    .object({
      kind: z.literal('eval_score'),
      threshold: z.number().min(0).max(100).describe('fires when the mean evaluation score (0–100) is below'),
      evaluator: z
        .string()
        .trim()
        .min(1)
        .max(255)
        .nullable()
        .default(null)
        .describe("only this evaluator's scores (its name); null for every evaluator"),
      windowMinutes: window,
      minSamples: minSamples(5).describe('fewer scores in the window neither fire nor clear'),
    })
    .strict()
    .describe(
      "evaluation score mean below X: a workflow (its runs' scores), an agent (the scores of its step attempts) or the organization",
    ),
  z
    .object({
      kind: z.literal('budget'),
      threshold: z
        .number()
        .min(1)
        .max(1000)
        .describe("fires when this percent of the organization's monthly budget is spent"),
    })
    .strict()
    .describe(
      "budget at X%: the organization's monthly budget (settings.monthlyBudgetUsd); its window is the budget's month",
    ),
]);
export type ConditionInput = z.infer<typeof conditionSchema>;

const hookUrl = z
  .string()
  .url()
  .max(2000)
  .regex(/^https?:\/\//, 'must be an http(s) URL');

export const channelsSchema = z
  .object({
    email: z.array(z.string().email().max(254)).max(20).default([]),
    slack: hookUrl
      .nullable()
      .optional()
      .describe(
        'a Slack (or Slack-compatible) incoming webhook URL; stored encrypted, never shown again; null removes it',
      ),
    webhook: hookUrl
      .nullable()
      .optional()
      .describe('a URL that receives Standard Webhooks-signed alert events; null removes it'),
    events: z.boolean().default(true).describe('also publish alert.* events to the event sinks'),
  })
  .strict();

const subject = {
  subjectType: z.enum(['agent', 'workflow', 'organization']),
  agentId: z
    .string()
    .uuid()
    .nullable()
    .describe(
      'one agent (external: its logs; llm or code: the finished attempts of workflow steps that ran it), or null for all of them',
    ),
  workflowId: z.string().uuid().nullable().describe('one workflow, or null for all of them'),
};

export const ruleBody = z
  .object({
    name: z.string().trim().min(1).max(255),
    subjectType: subject.subjectType.default('agent'),
    agentId: subject.agentId.default(null),
    workflowId: subject.workflowId.default(null),
    condition: conditionSchema,
    severity: z.enum(['info', 'warning', 'critical']).default('warning'),
    cooldownMinutes: z
      .number()
      .int()
      .min(1)
      .max(10_080)
      .default(60)
      .describe('re-notify an open alert after'),
    channels: channelsSchema.default({ email: [], events: true }),
    enabled: z.boolean().default(true),
  })
  .strict();
export type RuleBody = z.infer<typeof ruleBody>;

export const rulePatch = z
  .object({
    name: z.string().trim().min(1).max(255).optional(),
    subjectType: subject.subjectType.optional(),
    agentId: subject.agentId.optional(),
    workflowId: subject.workflowId.optional(),
    condition: conditionSchema.optional(),
    severity: z.enum(['info', 'warning', 'critical']).optional(),
    cooldownMinutes: z.number().int().min(1).max(10_080).optional(),
    channels: channelsSchema.partial().strict().optional(),
    enabled: z.boolean().optional(),
  })
  .strict();
export type RulePatch = z.infer<typeof rulePatch>;

export const previewBody = z
  .object({
    subjectType: subject.subjectType.default('agent'),
    agentId: subject.agentId.default(null),
    workflowId: subject.workflowId.default(null),
    condition: conditionSchema,
  })
  .strict();
export type PreviewBody = z.infer<typeof previewBody>;

export const ruleSchema = z.object({
  id: z.string().uuid(),
  name: z.string(),
  subjectType: z.enum(['agent', 'workflow', 'organization']),
  agentId: z.string().uuid().nullable(),
  workflowId: z.string().uuid().nullable(),
  condition: conditionSchema,
  severity: z.enum(['info', 'warning', 'critical']),
  cooldownMinutes: z.number(),
  channels: z.object({
    email: z.array(z.string()),
    slack: z.boolean().describe('a Slack webhook is set'),
    webhook: z.boolean().describe('a generic webhook is set'),
    events: z.boolean(),
  }),
  enabled: z.boolean(),
  createdAt: z.string(),
  updatedAt: z.string(),
  webhookSecret: z
    .string()
    .optional()
    .describe('the webhook signing secret, shown once when the webhook is set'),
});
export type RuleDto = z.infer<typeof ruleSchema>;

export const alertSchema = z.object({
  id: z.string().uuid(),
  ruleId: z.string().uuid(),
  ruleName: z.string(),
  severity: z.enum(['info', 'warning', 'critical']),
  subjectType: z.enum(['agent', 'workflow', 'organization']),
  subjectId: z.string().uuid(),
  subjectName: z.string().nullable(),
  agentId: z.string().uuid().nullable(),
  workflowId: z.string().uuid().nullable(),
  status: z.enum(['open', 'acknowledged', 'resolved']),
  triggeredAt: z.string(),
  acknowledgedAt: z.string().nullable(),
  acknowledgedBy: z.string().uuid().nullable(),
  resolvedAt: z.string().nullable(),
  resolvedBy: z.string().uuid().nullable(),
  resolutionComment: z.string().nullable(),
  details: z
    .object({
      reason: z.string().optional().describe('why it fired, in words'),
      value: z.number().optional().describe('the measured value (a rate, latency, cost, score or count)'),
    })
    .catchall(z.unknown()),
});
export type AlertDto = z.infer<typeof alertSchema>;

export const alertQuery = z.object({
  status: z.enum(['open', 'acknowledged', 'resolved', 'unresolved']).optional(),
  severity: z.enum(['info', 'warning', 'critical']).optional(),
  ruleId: z.string().uuid().optional(),
  agentId: z.string().uuid().optional(),
  workflowId: z.string().uuid().optional(),
  limit: z.coerce.number().int().min(1).max(500).default(200),
});
