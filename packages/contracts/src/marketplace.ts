import { z } from 'zod';
import { agentSchema } from './agents.ts';
import { modelIdSchema } from './workflow.ts';

/** A decimal amount of money with at most two decimals, as a string ("9.99"). */
export const moneySchema = z
  .string()
  .trim()
  .regex(/^\d{1,8}(\.\d{1,2})?$/, 'must be an amount like 9.99 (at most 8 digits and 2 decimals)');

const shortList = z.array(z.string().trim().min(1).max(100)).max(50);

// ---- Agent types (the catalog) ----

export const agentTypeParamSchema = z.object({
  name: z.string(),
  description: z.string().nullable(),
});

export const agentTypeSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    description: z.string().nullable(),
    category: z.string(),
    version: z.string(),
    url: z.string().nullable(),
    capabilities: z.array(z.string()),
    systemPrompt: z.string(),
    model: z.string(),
    temperature: z.number().nullable(),
    maxTokens: z.number().int().nullable(),
    defaultConfig: z.record(z.string(), z.unknown()),
    requiredParams: z.array(agentTypeParamSchema),
    source: z.string().describe('definition file, relative to the catalog directory'),
  })
  .meta({ id: 'AgentType' });
export type AgentTypeDto = z.infer<typeof agentTypeSchema>;

export const agentTypeListQuerySchema = z.object({
  category: z.string().max(100).optional(),
  capability: z.string().max(100).optional(),
  q: z.string().max(200).optional(),
});

export const instantiateAgentTypeBodySchema = z
  .object({
    name: z.string().trim().min(1).max(255),
    description: z.string().max(10_000).optional(),
    params: z
      .record(z.string().max(100), z.string().max(10_000))
      .default({})
      .describe("values of the type's required_params, filled into {{params.<name>}}"),
    config: z
      .object({
        model: modelIdSchema.optional(),
        temperature: z.number().min(0).max(2).optional(),
        topP: z.number().min(0).max(1).optional(),
        maxTokens: z.number().int().min(1).max(1_000_000).optional(),
        systemPrompt: z.string().max(100_000).optional(),
        promptTemplate: z.string().max(100_000).optional(),
        tools: z.array(z.string().min(1).max(100)).max(100).optional(),
        costLimitPerRequest: z.number().min(0).max(999_999).optional(),
        integrationId: z.uuid().optional(),
      })
      .default({})
      .describe("merged over the type's default_config"),
  })
  .meta({ id: 'InstantiateAgentType' });
export type InstantiateAgentTypeBody = z.infer<typeof instantiateAgentTypeBodySchema>;

// ---- Templates (seed 001 ai_templates) ----

const templateFields = {
  name: z.string().trim().min(1).max(255),
  description: z.string().max(10_000).nullable().optional(),
  avatarUrl: z.url().max(2000).nullable().optional(),
  category: z.string().trim().max(100).nullable().optional(),
  capabilities: shortList.default([]),
  systemPrompt: z.string().min(1).max(100_000),
  promptTemplate: z.string().max(100_000).default('{{input.text}}'),
  functions: z.array(z.unknown()).max(100).default([]).describe('tools the agent may call'),
  personalityConfig: z.record(z.string(), z.unknown()).default({}).describe('tone, expertise, style'),
  knowledgeSources: z.array(z.unknown()).max(100).default([]).describe('documents and URLs'),
  modelConfig: z
    .record(z.string(), z.unknown())
    .default({})
    .describe('model, temperature, top_p, max_tokens'),
  allowedIntegrations: shortList
    .default([])
    .describe('providers an agent made from this template may call (e.g. openai, anthropic); empty: any'),
  costLimitPerRequest: moneySchema.nullable().optional().describe('USD a single model call may cost'),
  isPublic: z.boolean().default(false),
};

export const createTemplateBodySchema = z.object(templateFields).meta({ id: 'CreateTemplate' });
export type CreateTemplateBody = z.infer<typeof createTemplateBodySchema>;

export const updateTemplateBodySchema = z
  .object(
    // defaults apply on create only: a field left out of a change stays as it is
    Object.fromEntries(
      Object.entries(templateFields).map(([k, v]) => [
        k,
        (v instanceof z.ZodDefault ? (v.unwrap() as z.ZodType) : (v as z.ZodType)).optional(),
      ]),
    ) as {
      [K in keyof typeof templateFields]: z.ZodOptional<(typeof templateFields)[K]>;
    },
  )
  .refine((b) => Object.keys(b).length > 0, 'send at least one field to change')
  .meta({ id: 'UpdateTemplate' });
export type UpdateTemplateBody = z.infer<typeof updateTemplateBodySchema>;

export const templateFromAgentBodySchema = z.object({
  agentId: z.uuid(),
  name: z.string().trim().min(1).max(255).optional(),
  category: z.string().trim().max(100).nullable().optional(),
  capabilities: shortList.optional(),
  allowedIntegrations: shortList.optional(),
  costLimitPerRequest: moneySchema.nullable().optional(),
});

export const templateToAgentBodySchema = z.object({
  name: z.string().trim().min(1).max(255),
  integrationId: z.uuid().optional(),
  model: modelIdSchema.optional().describe('override the template model (its provider must be allowed)'),
});

export const templateSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    description: z.string().nullable(),
    avatarUrl: z.string().nullable(),
    category: z.string().nullable(),
    capabilities: z.array(z.string()),
    systemPrompt: z.string(),
    promptTemplate: z.string(),
    functions: z.array(z.unknown()),
    personalityConfig: z.record(z.string(), z.unknown()),
    knowledgeSources: z.array(z.unknown()),
    modelConfig: z.record(z.string(), z.unknown()),
    allowedIntegrations: z.array(z.string()),
    costLimitPerRequest: z.string().nullable(),
    version: z.number().int(),
    isPublic: z.boolean(),
    isMarketplace: z.boolean(),
    price: z.string().nullable(),
    usageCount: z.number().int(),
    rating: z.string(),
    sourceAgentId: z.string().nullable(),
    sourceListingId: z.string().nullable(),
    listing: z
      .object({ id: z.uuid(), status: z.string(), price: z.string(), templateVersion: z.number().int() })
      .nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Template' });
export type TemplateDto = z.infer<typeof templateSchema>;

export const templateVersionSchema = z.object({
  version: z.number().int(),
  content: z.record(z.string(), z.unknown()),
  createdBy: z.string().nullable(),
  createdAt: z.string(),
});

export const templateAgentResponseSchema = z.object({ agent: agentSchema, template: templateSchema });

// ---- Marketplace ----

export const LISTING_STATUS_VALUES = ['pending', 'published', 'unpublished', 'error'] as const;
export const PAYMENT_STATUS_VALUES = ['pending', 'completed', 'failed', 'refunded'] as const;

export const publishTemplateBodySchema = z.object({
  price: moneySchema.default('0').describe('0 for free'),
  currency: z.literal('USD').default('USD'),
});

export const listingSchema = z
  .object({
    id: z.uuid(),
    templateId: z.uuid(),
    organizationId: z.uuid().describe("the seller's organization"),
    sellerName: z.string(),
    name: z.string(),
    description: z.string().nullable(),
    avatarUrl: z.string().nullable(),
    category: z.string().nullable(),
    capabilities: z.array(z.string()),
    allowedIntegrations: z.array(z.string()),
    price: z.string(),
    currency: z.string(),
    templateVersion: z.number().int(),
    status: z.enum(LISTING_STATUS_VALUES),
    publishedAt: z.string().nullable(),
    unpublishedAt: z.string().nullable(),
    usageCount: z.number().int(),
    rating: z.string(),
    ratingCount: z.number().int(),
    mine: z.boolean().describe("this organization's own listing"),
    purchased: z.boolean().describe('this organization holds a completed purchase'),
  })
  .meta({ id: 'Listing' });
export type ListingDto = z.infer<typeof listingSchema>;

export const listingQuerySchema = z.object({
  q: z.string().max(200).optional(),
  category: z.string().max(100).optional(),
  capability: z.string().max(100).optional(),
  minRating: z.coerce.number().min(0).max(5).optional(),
  maxPrice: moneySchema.optional(),
  free: z.enum(['true', 'false']).optional(),
  sort: z.enum(['rating', 'newest', 'price', 'usage']).default('rating'),
  limit: z.coerce.number().int().min(1).max(100).default(50),
  offset: z.coerce.number().int().min(0).max(10_000).default(0),
});

export const purchaseBodySchema = z.object({
  idempotencyKey: z
    .string()
    .min(1)
    .max(255)
    .optional()
    .describe('the same key returns the same purchase (default: one purchase per listing version)'),
});

export const purchaseSchema = z
  .object({
    id: z.uuid(),
    listingId: z.uuid(),
    buyerOrganizationId: z.uuid(),
    sellerOrganizationId: z.uuid(),
    buyerId: z.string().nullable(),
    templateName: z.string(),
    templateVersion: z.number().int(),
    price: z.string(),
    platformFee: z.string(),
    sellerPayout: z.string(),
    currency: z.string(),
    paymentStatus: z.enum(PAYMENT_STATUS_VALUES),
    paymentMethod: z.string().nullable(),
    transactionId: z.string().nullable(),
    installedTemplateId: z.string().nullable(),
    purchasedAt: z.string(),
    completedAt: z.string().nullable(),
    refundedAt: z.string().nullable(),
  })
  .meta({ id: 'Purchase' });
export type PurchaseDto = z.infer<typeof purchaseSchema>;

export const salesSchema = z.object({
  data: z.array(purchaseSchema),
  totals: z.object({
    sales: z.number().int(),
    gross: z.string(),
    platformFees: z.string(),
    payouts: z.string().describe('seller payouts of completed purchases'),
    pendingPayouts: z.string(),
    refunded: z.string(),
  }),
});

export const rateBodySchema = z.object({
  rating: z.number().int().min(1).max(5),
  review: z.string().trim().max(5000).nullable().optional(),
});

export const ratingSchema = z.object({
  id: z.uuid(),
  listingId: z.uuid(),
  userId: z.string(),
  userName: z.string().nullable(),
  rating: z.number().int(),
  review: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type RatingDto = z.infer<typeof ratingSchema>;
