import { z } from 'zod';
import { modelIdSchema } from './workflow.ts';

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const decimal = z
  .string()
  .regex(/^\d{1,9}(\.\d{1,12})?$/, 'a non-negative decimal string, e.g. "0.15"')
  .describe('USD per million tokens, exact decimal');
const day = z.string().regex(DAY, 'a day as YYYY-MM-DD');

const priceFields = {
  model: modelIdSchema.describe('provider:model, or provider:* for every model of a provider'),
  effectiveFrom: day,
  effectiveTo: day.optional(),
  input: decimal,
  output: decimal,
  cachedInput: decimal.optional(),
  cacheWrite: decimal.optional(),
  reasoning: decimal.optional(),
  perRequest: decimal.optional().describe('USD per request'),
};

export const modelPriceSchema = z
  .object({ ...priceFields, source: z.string().optional() })
  .meta({ id: 'ModelPrice' });
export type ModelPriceDto = z.infer<typeof modelPriceSchema>;

export const createPriceOverrideBodySchema = z
  .object({ ...priceFields, note: z.string().max(1000).optional() })
  .strict()
  .refine((p) => !p.effectiveTo || p.effectiveTo > p.effectiveFrom, {
    message: 'effectiveTo must be after effectiveFrom',
    path: ['effectiveTo'],
  })
  .meta({ id: 'CreatePriceOverride' });
export type CreatePriceOverrideBody = z.infer<typeof createPriceOverrideBodySchema>;

export const priceOverrideSchema = z
  .object({
    id: z.uuid(),
    ...priceFields,
    effectiveTo: z.string().nullable(),
    cachedInput: z.string().nullable(),
    cacheWrite: z.string().nullable(),
    reasoning: z.string().nullable(),
    perRequest: z.string().nullable(),
    note: z.string().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'PriceOverride' });
export type PriceOverrideDto = z.infer<typeof priceOverrideSchema>;

export const priceListSchema = z
  .object({
    catalogVersion: z.string().describe('the date the shipped figures were checked'),
    currency: z.literal('USD'),
    catalog: z.array(
      modelPriceSchema.extend({
        current: z
          .boolean()
          .describe('in effect today; a model listed twice has one current period and older ones'),
      }),
    ),
    overrides: z.array(priceOverrideSchema),
  })
  .meta({ id: 'PriceList' });

export const priceQuerySchema = z
  .object({ model: z.string().max(255).optional().describe('only prices of models containing this text') })
  .strict();

export const resolvePriceQuerySchema = z.object({
  model: modelIdSchema,
  at: z.iso.datetime({ offset: true }).optional().describe('default: now'),
});

export const resolvedPriceSchema = z
  .object({
    model: z.string(),
    at: z.string(),
    source: z.enum(['override', 'catalog', 'none']),
    price: modelPriceSchema.nullable(),
  })
  .meta({ id: 'ResolvedPrice' });

const memoryKey = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .regex(/^\S(.*\S)?$/, 'no leading or trailing spaces');

export const memoryThreadParamsSchema = z.object({ threadKey: memoryKey(500) });
export const memoryNamespaceParamsSchema = z.object({ namespace: memoryKey(200) });

export const memoryMessageSchema = z
  .object({
    id: z.uuid(),
    threadKey: z.string(),
    role: z.enum(['user', 'assistant']),
    content: z.string(),
    runId: z.string().nullable(),
    createdAt: z.string(),
  })
  .meta({ id: 'MemoryMessage' });

export const memoryThreadQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50),
});

export const COST_GROUPS = ['workflow', 'agent', 'model', 'day'] as const;

export const costQuerySchema = z
  .object({
    groupBy: z.enum(COST_GROUPS).default('workflow'),
    from: z.iso.datetime({ offset: true }).optional().describe('default: 30 days ago'),
    to: z.iso.datetime({ offset: true }).optional().describe('default: now'),
    workflowId: z.uuid().optional(),
    agentId: z.uuid().optional(),
  })
  .strict();

export const costReportSchema = z
  .object({
    groupBy: z.enum(COST_GROUPS),
    from: z.string(),
    to: z.string(),
    total: z.object({ cost: z.number(), tokens: z.number(), calls: z.number(), runs: z.number() }),
    groups: z.array(
      z.object({
        key: z.string().nullable().describe('workflow id, agent id, model id or day (YYYY-MM-DD)'),
        name: z.string().nullable(),
        cost: z.number().describe('USD'),
        inputTokens: z.number(),
        outputTokens: z.number(),
        totalTokens: z.number(),
        calls: z.number().describe('model calls (attempts)'),
        cachedCalls: z.number(),
        runs: z.number(),
      }),
    ),
    /**
     * LLM-as-judge calls (evaluation results and evaluator tests), by evaluator: model spend outside the
     * runs' attempts, added like them to the organization's monthly cost and usage ledger. The
     * organization's model spend is `total.cost + evaluations.total.cost`.
     */
    evaluations: z.object({
      total: z.object({ cost: z.number(), tokens: z.number(), calls: z.number(), runs: z.number() }),
      groups: z.array(
        z.object({
          key: z.string().nullable().describe('evaluator id (null once the evaluator is deleted)'),
          name: z.string().nullable(),
          cost: z.number().describe('USD'),
          inputTokens: z.number(),
          outputTokens: z.number(),
          totalTokens: z.number(),
          calls: z.number().describe('judge calls'),
          runs: z.number().describe('runs scored'),
        }),
      ),
    }),
  })
  .meta({ id: 'CostReport' });
export type CostReport = z.infer<typeof costReportSchema>;
