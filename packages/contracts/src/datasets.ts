import { z } from 'zod';

/** Datasets and experiments (issue 16). */

const name = z.string().trim().min(1).max(255);
const json = z.unknown();

export const createDatasetBodySchema = z.object({
  name,
  description: z.string().max(5_000).nullable().optional(),
});

export const updateDatasetBodySchema = z.object({
  name: name.optional(),
  description: z.string().max(5_000).nullable().optional(),
});

export const datasetSchema = z.object({
  id: z.uuid(),
  name: z.string(),
  description: z.string().nullable(),
  version: z.number().int(),
  itemCount: z.number().int(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type Dataset = z.infer<typeof datasetSchema>;

export const datasetItemBodySchema = z.object({
  input: json.refine((v) => v !== undefined, 'input is required'),
  expectedOutput: json.optional(),
  metadata: z.record(z.string(), z.unknown()).optional(),
});

export const addDatasetItemsBodySchema = z.object({
  items: z.array(datasetItemBodySchema).min(1).max(1_000),
});

export const importDatasetBodySchema = z.object({
  format: z.enum(['csv', 'jsonl']),
  /** CSV with a header row (`input`, `expected_output`, other columns become metadata) or JSON Lines. */
  content: z.string().min(1).max(5_000_000),
});

export const addFromRunBodySchema = z.object({
  runId: z.uuid(),
  /** Keep the run's output as the expected output (default true). */
  useOutputAsExpected: z.boolean().default(true),
});

export const datasetItemSchema = z.object({
  id: z.uuid(),
  datasetId: z.uuid(),
  input: z.unknown(),
  expectedOutput: z.unknown(),
  metadata: z.record(z.string(), z.unknown()),
  sourceRunId: z.uuid().nullable(),
  addedInVersion: z.number().int(),
  createdAt: z.string(),
});

export const datasetItemsQuerySchema = z.object({
  version: z.coerce.number().int().min(1).max(1_000_000).optional(),
});

export const experimentEvaluatorSchema = z.object({
  evaluatorId: z.uuid(),
  name: z.string(),
  version: z.number().int(),
});

/** What an experiment runs: exactly one of a workflow (`workflowId`) or an agent (`agentId`). */
export const createExperimentBodySchema = z
  .object({
    name: name.optional(),
    datasetId: z.uuid(),
    /** Default: the dataset's current version. */
    datasetVersion: z.number().int().min(1).max(1_000_000).optional(),
    workflowId: z.uuid().optional(),
    /** Default: the workflow's current version. */
    workflowVersion: z.number().int().min(1).max(1_000_000).optional(),
    /** An agent version alone: each item's input is rendered into the agent's prompt, as a workflow step would. */
    agentId: z.uuid().optional(),
    /** Default: the agent's current version. */
    agentVersion: z.number().int().min(1).max(1_000_000).optional(),
    evaluatorIds: z.array(z.uuid()).min(1).max(20),
    parallelism: z.number().int().min(1).max(32).default(4),
  })
  .superRefine((b, ctx) => {
    if ((b.workflowId === undefined) === (b.agentId === undefined))
      ctx.addIssue({
        code: 'custom',
        path: [b.workflowId === undefined ? 'workflowId' : 'agentId'],
        message: 'give exactly one of workflowId (a workflow version) or agentId (an agent version)',
      });
    if (b.workflowVersion !== undefined && b.workflowId === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['workflowVersion'],
        message: 'workflowVersion needs workflowId',
      });
    if (b.agentVersion !== undefined && b.agentId === undefined)
      ctx.addIssue({ code: 'custom', path: ['agentVersion'], message: 'agentVersion needs agentId' });
  });

export const evaluatorAggregateSchema = z.object({
  evaluatorId: z.uuid(),
  name: z.string(),
  mean: z.number().nullable(),
  p50: z.number().nullable(),
  passRate: z.number().nullable(),
  scored: z.number().int(),
});

export const experimentSchema = z.object({
  id: z.uuid(),
  name: z.string(),
  datasetId: z.uuid(),
  datasetVersion: z.number().int(),
  workflowId: z.uuid(),
  workflowVersion: z.number().int(),
  /** Set when the experiment runs an agent version alone (the workflow is its one-step harness). */
  agentId: z.uuid().nullable(),
  agentVersion: z.number().int().nullable(),
  evaluators: z.array(experimentEvaluatorSchema),
  parallelism: z.number().int(),
  status: z.enum(['running', 'completed', 'cancelled']),
  purpose: z.string(),
  totalItems: z.number().int(),
  doneItems: z.number().int(),
  aggregates: z.array(evaluatorAggregateSchema),
  totals: z.object({
    costUsd: z.number(),
    tokens: z.number().int(),
    meanLatencyMs: z.number().nullable(),
    failedRuns: z.number().int(),
  }),
  createdAt: z.string(),
  completedAt: z.string().nullable(),
});
export type Experiment = z.infer<typeof experimentSchema>;

export const experimentScoreSchema = z.object({
  evaluatorId: z.uuid(),
  name: z.string(),
  /** Null when the evaluator could not score the item (a judge's error, in `explanation`). */
  score: z.number().nullable(),
  passed: z.boolean(),
  explanation: z.string().nullable(),
});

export const experimentItemSchema = z.object({
  id: z.uuid(),
  datasetItemId: z.uuid(),
  position: z.number().int(),
  status: z.enum(['pending', 'running', 'scored']),
  runId: z.uuid().nullable(),
  runStatus: z.string().nullable(),
  input: z.unknown(),
  expectedOutput: z.unknown(),
  output: z.unknown(),
  scores: z.array(experimentScoreSchema),
  latencyMs: z.number().nullable(),
  costUsd: z.number(),
  tokens: z.number().int(),
  error: z.string().nullable(),
});

export const compareQuerySchema = z.object({ base: z.uuid(), candidate: z.uuid() });

export const comparisonSchema = z.object({
  base: experimentSchema,
  candidate: experimentSchema,
  aggregates: z.array(
    z.object({
      name: z.string(),
      baseMean: z.number().nullable(),
      candidateMean: z.number().nullable(),
      basePassRate: z.number().nullable(),
      candidatePassRate: z.number().nullable(),
      delta: z.number().nullable(),
    }),
  ),
  items: z.array(
    z.object({
      datasetItemId: z.uuid(),
      input: z.unknown(),
      expectedOutput: z.unknown(),
      baseOutput: z.unknown(),
      candidateOutput: z.unknown(),
      scores: z.array(
        z.object({
          name: z.string(),
          base: z.number().nullable(),
          candidate: z.number().nullable(),
          basePassed: z.boolean().nullable(),
          candidatePassed: z.boolean().nullable(),
        }),
      ),
      /** A score fell or a passing evaluator now fails. */
      regression: z.boolean(),
      improvement: z.boolean(),
    }),
  ),
  regressions: z.number().int(),
  improvements: z.number().int(),
});

/** `promotion` in a workflow definition: the bar a version must clear to become current. */
export const promotionPolicySchema = z
  .object({
    dataset: z.string().min(1).max(255).describe('a dataset id or name'),
    evaluators: z.array(z.string().min(1).max(255)).min(1).max(20).describe('evaluator ids or names'),
    minScore: z.number().min(0).max(100).optional().describe('every evaluator’s mean score must reach this'),
    minPassRate: z.number().min(0).max(1).optional().describe('every evaluator’s pass rate must reach this'),
  })
  .refine((p) => p.minScore !== undefined || p.minPassRate !== undefined, 'give minScore or minPassRate');
export type PromotionPolicy = z.infer<typeof promotionPolicySchema>;
