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
  /** The output equals the sample's expected output (a dataset item's), compared as JSON or as text. */
  z.object({ rule: z.literal('equals_expected'), caseSensitive: z.boolean().default(true) }),
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
  /**
   * Cosine similarity of the output to an expected answer through the organization's embedding path (the
   * model of semantic memory and terminology, or `model`), scored 0–100 (negative similarity scores 0).
   */
  z.object({
    rule: z.literal('embedding_similarity'),
    expected: text,
    model: modelIdSchema.max(255).optional().describe("default: the organization's embedding model"),
    integrationId: z.uuid().nullable().optional(),
  }),
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
  /** What the output should be (a dataset item's expected output, in experiments). */
  expected: z.unknown().optional(),
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
  /** The scored step attempt's node and attempt number (null for a run-level score). */
  nodeId: z.string().nullable(),
  attempt: z.number().int().nullable(),
  evaluatorId: z.uuid().nullable(),
  evaluatorName: z.string(),
  /** 0 for a manual score. */
  evaluatorVersion: z.number().int(),
  kind: z.enum(['rule', 'judge', 'manual']),
  source: z.enum(['online', 'on_demand', 'manual']),
  /** Who scored it by hand, or who asked for it on demand (null for online scores). */
  createdBy: z.object({ id: z.uuid(), name: z.string() }).nullable(),
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

/**
 * A score from a person on a run or one step attempt of it: 👍/👎 (`thumbs`, scored 100 or 0) or a number
 * 0–100, with an optional comment. A step attempt is named by its id or by node id and attempt number
 * (the latest attempt when the number is left out).
 */
export const manualScoreBodySchema = z
  .object({
    thumbs: z.enum(['up', 'down']).optional(),
    score: z.number().min(0).max(100).optional(),
    comment: z.string().trim().max(5_000).optional(),
    name: z.string().trim().min(1).max(100).optional().describe('default: "human"'),
    /** Pass mark for a numeric score (default 50); 👍 passes, 👎 fails. */
    threshold: z.number().min(0).max(100).optional(),
    agentExecutionId: z.uuid().optional(),
    nodeId: z.string().min(1).max(64).optional(),
    attempt: z.number().int().min(1).max(1_000_000).optional(),
  })
  .strict()
  .refine((b) => (b.thumbs === undefined) !== (b.score === undefined), {
    message: 'give exactly one of thumbs (up or down) or score (0–100)',
    path: ['score'],
  })
  .refine((b) => !(b.agentExecutionId && b.nodeId), {
    message: 'give agentExecutionId or nodeId, not both',
    path: ['nodeId'],
  })
  .refine((b) => b.attempt === undefined || b.nodeId !== undefined, {
    message: 'attempt needs nodeId',
    path: ['attempt'],
  })
  .refine((b) => b.thumbs === undefined || b.threshold === undefined, {
    message: 'a thumbs score has no threshold (👍 passes, 👎 fails)',
    path: ['threshold'],
  });
export type ManualScoreBody = z.infer<typeof manualScoreBodySchema>;
