import { z } from 'zod';
import { jsonSchemaObject, modelIdSchema, simulateSchema } from './workflow.ts';

/** A JSON path into the scored value: `$`, `$.a.b`, `$.items[0].score` (dots and numeric indexes only). */
export const jsonPathSchema = z
  .string()
  .max(200)
  .regex(
    /^\$((\.[A-Za-z_][A-Za-z0-9_-]*)|(\[\d{1,6}\]))*$/,
    'must be a JSON path like $.answer or $.items[0].score',
  );

const text = z.string().min(1).max(10_000);

/** Rule evaluators: each scores 100 (rule holds) or 0, compared with the threshold. */
export const ruleConfigSchema = z.discriminatedUnion('rule', [
  z.object({ rule: z.literal('contains'), value: text, caseSensitive: z.boolean().default(false) }),
  z.object({ rule: z.literal('not_contains'), value: text, caseSensitive: z.boolean().default(false) }),
  z.object({
    rule: z.literal('regex'),
    pattern: z.string().min(1).max(1_000),
    flags: z
      .string()
      .regex(/^[im]{0,2}$/, 'flags: i and/or m')
      .default(''),
  }),
  z.object({
    rule: z.literal('equals'),
    value: z.unknown().refine((v) => v !== undefined, 'value is required'),
  }),
  z.object({ rule: z.literal('json_schema'), schema: jsonSchemaObject }),
  z
    .object({
      rule: z.literal('numeric_range'),
      path: jsonPathSchema,
      min: z.number().optional(),
      max: z.number().optional(),
    })
    .refine((c) => c.min !== undefined || c.max !== undefined, 'give min, max or both'),
  z.object({ rule: z.literal('latency_max'), maxMs: z.number().int().min(0).max(86_400_000) }),
  z.object({ rule: z.literal('cost_max'), maxUsd: z.number().min(0).max(1_000_000) }),
  z.object({ rule: z.literal('tokens_max'), maxTokens: z.number().int().min(0).max(100_000_000) }),
]);
export type RuleConfig = z.infer<typeof ruleConfigSchema>;

export const JUDGE_TEMPLATES = ['relevancy', 'helpfulness', 'clarity', 'faithfulness', 'toxicity'] as const;

/** LLM-as-judge: a rubric prompt (`{{input}}`, `{{output}}`, `{{context}}`) answered with a score 0–100. */
export const judgeConfigSchema = z.object({
  /** A built-in rubric; `rubric` (if given) replaces its text. */
  template: z.enum(JUDGE_TEMPLATES).optional(),
  rubric: z.string().min(1).max(20_000).optional(),
  model: modelIdSchema.max(255),
  integrationId: z.uuid().nullable().optional(),
  /** The most one judging call may spend, USD (checked before the call, like an agent's cost limit). */
  budgetUsd: z.number().min(0).max(100).optional(),
  maxTokens: z.number().int().min(1).max(8_192).optional(),
  /** The simulator's settings (offline judging: `simulate.output` = `{score, explanation}`). */
  simulate: simulateSchema.nullable().optional(),
});
export type JudgeConfig = z.infer<typeof judgeConfigSchema>;

const evaluatorFields = {
  name: z.string().trim().min(1).max(255),
  description: z.string().max(2_000).nullable().optional(),
  /** Pass when score ≥ threshold (0–100). Default: 50 for rules, 70 for judges. */
  threshold: z.number().min(0).max(100).optional(),
};

export const createEvaluatorBodySchema = z.discriminatedUnion('kind', [
  z.object({ ...evaluatorFields, kind: z.literal('rule'), config: ruleConfigSchema }),
  z
    .object({ ...evaluatorFields, kind: z.literal('judge'), config: judgeConfigSchema })
    .refine((b) => b.config.template || b.config.rubric, {
      message: 'a judge needs a template or a rubric',
      path: ['config', 'rubric'],
    }),
]);
export type CreateEvaluatorBody = z.infer<typeof createEvaluatorBodySchema>;

export const updateEvaluatorBodySchema = z.object({
  name: evaluatorFields.name.optional(),
  description: evaluatorFields.description,
  threshold: evaluatorFields.threshold,
  /** Replaces the config (same kind as the evaluator's). */
  config: z.record(z.string(), z.unknown()).optional(),
});
export type UpdateEvaluatorBody = z.infer<typeof updateEvaluatorBodySchema>;

export const evaluatorSchema = z.object({
  id: z.uuid(),
  name: z.string(),
  description: z.string().nullable(),
  kind: z.enum(['rule', 'judge']),
  config: z.record(z.string(), z.unknown()),
  threshold: z.number(),
  version: z.number().int(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type Evaluator = z.infer<typeof evaluatorSchema>;

export const evaluatorVersionSchema = evaluatorSchema
  .omit({ id: true, updatedAt: true, description: true })
  .extend({ evaluatorId: z.uuid() });

/** What an evaluator scores: a run's (or agent attempt's) input, output and figures. */
export const evaluationSampleSchema = z.object({
  input: z.unknown().optional(),
  output: z.unknown(),
  /** For faithfulness: the source the output must stay true to. */
  context: z.unknown().optional(),
  latencyMs: z.number().min(0).optional(),
  costUsd: z.number().min(0).optional(),
  tokens: z.number().int().min(0).optional(),
});
export type EvaluationSample = z.infer<typeof evaluationSampleSchema>;

export const evaluationOutcomeSchema = z.object({
  score: z.number(),
  passed: z.boolean(),
  threshold: z.number(),
  details: z.record(z.string(), z.unknown()),
  explanation: z.string().nullable(),
  costUsd: z.number(),
});

export const evaluationResultSchema = evaluationOutcomeSchema.extend({
  id: z.uuid(),
  runId: z.uuid(),
  agentExecutionId: z.uuid().nullable(),
  evaluatorId: z.uuid().nullable(),
  evaluatorName: z.string(),
  evaluatorVersion: z.number().int(),
  kind: z.enum(['rule', 'judge']),
  source: z.enum(['online', 'on_demand']),
  createdAt: z.string(),
});
export type EvaluationResult = z.infer<typeof evaluationResultSchema>;

export const attachEvaluatorBodySchema = z
  .object({
    workflowId: z.uuid().optional(),
    agentId: z.uuid().optional(),
    samplingRate: z.number().min(0).max(1).default(1),
  })
  .refine((b) => (b.workflowId === undefined) !== (b.agentId === undefined), {
    message: 'give exactly one of workflowId or agentId',
  });

export const attachmentSchema = z.object({
  id: z.uuid(),
  evaluatorId: z.uuid(),
  workflowId: z.uuid().nullable(),
  agentId: z.uuid().nullable(),
  samplingRate: z.number(),
  createdAt: z.string(),
});

export const runEvaluationBodySchema = z.object({
  runId: z.uuid(),
  evaluatorIds: z.array(z.uuid()).min(1).max(20),
  /** Score this agent attempt of the run instead of the run's output. */
  agentExecutionId: z.uuid().optional(),
});
