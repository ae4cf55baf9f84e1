import { TERM_CONTEXTS } from '@aiops/db';
import { z } from 'zod';

const tag = z.string().trim().min(1).max(50);

const termFields = {
  term: z.string().trim().min(1).max(500),
  definition: z.string().trim().min(1).max(10_000),
  context: z.enum(TERM_CONTEXTS).nullable().optional(),
  usageExamples: z.array(z.string().max(1000)).max(20).default([]),
  relatedTerms: z.array(z.uuid()).max(50).default([]).describe('ids of related entries'),
  tags: z.array(tag).max(20).default([]),
  isPublic: z.boolean().default(false).describe('true: the whole organization sees it; false: only you'),
};

export const createTermBodySchema = z.object(termFields).meta({ id: 'CreateTerm' });
export type CreateTermBody = z.infer<typeof createTermBodySchema>;

export const updateTermBodySchema = z
  .object({
    term: termFields.term.optional(),
    definition: termFields.definition.optional(),
    context: termFields.context,
    usageExamples: z.array(z.string().max(1000)).max(20).optional(),
    relatedTerms: z.array(z.uuid()).max(50).optional(),
    tags: z.array(tag).max(20).optional(),
    isPublic: z.boolean().optional(),
  })
  .refine((b) => Object.keys(b).length > 0, 'send at least one field to change');

export const termSchema = z
  .object({
    id: z.uuid(),
    term: z.string(),
    definition: z.string(),
    context: z.enum(TERM_CONTEXTS).nullable(),
    usageExamples: z.array(z.string()),
    relatedTerms: z.array(z.string()),
    related: z.array(z.object({ id: z.string(), term: z.string() })).optional(),
    tags: z.array(z.string()),
    isPublic: z.boolean(),
    userId: z.string().nullable(),
    frequency: z.number(),
    lastUsedAt: z.string().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Term' });

export const termListQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
  context: z.enum(TERM_CONTEXTS).optional(),
  tag: tag.optional(),
});

export const termSearchQuerySchema = z.object({
  q: z.string().trim().min(1).max(500),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  context: z.enum(TERM_CONTEXTS).optional(),
  tag: tag.optional(),
  semantic: z.enum(['true', 'false']).default('true'),
});

export const searchHitSchema = z.object({
  entry: termSchema,
  score: z.number(),
  match: z.object({
    exact: z.boolean(),
    fullText: z.number().nullable(),
    fuzzy: z.number().nullable(),
    semantic: z.number().nullable(),
  }),
});

export const importBodySchema = z.object({
  format: z.enum(['csv', 'json']),
  data: z
    .string()
    .min(1)
    .max(900_000)
    .describe(
      'CSV with a header row (term,definition,context,tags,usage_examples,is_public) or a JSON array',
    ),
  isPublic: z.boolean().optional().describe('overrides every row’s is_public'),
});

export const importRowSchema = z.object({
  term: termFields.term,
  definition: termFields.definition,
  context: z.enum(TERM_CONTEXTS).nullable().optional(),
  usageExamples: z.array(z.string().max(1000)).max(20).default([]),
  relatedTerms: z.array(z.string().max(500)).max(50).default([]).describe('related terms by name'),
  tags: z.array(tag).max(20).default([]),
  isPublic: z.boolean().default(false),
});
export type ImportRow = z.infer<typeof importRowSchema>;

export const exportQuerySchema = z.object({ format: z.enum(['csv', 'json']).default('json') });

export const glossaryBodySchema = z.object({
  text: z.string().min(1).max(100_000),
  tokenBudget: z.number().int().min(10).max(20_000).optional(),
});
