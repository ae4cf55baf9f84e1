import { z } from 'zod';

/**
 * Provider integrations (`/integrations`): an organization's credentials for a model provider. Secrets go
 * in (`credentials.apiKey`) and never come out: answers carry only `credentialHint` (`sk-…abcd`).
 */
export const INTEGRATION_PROVIDER_VALUES = [
  'openai',
  'anthropic',
  'google',
  'xai',
  'cohere',
  'perplexity',
  'ollama',
  'openai-compatible',
] as const;
export type IntegrationProvider = (typeof INTEGRATION_PROVIDER_VALUES)[number];
export const INTEGRATION_CATEGORY_VALUES = ['llm_provider', 'tool', 'notification', 'sync'] as const;
export const INTEGRATION_STATUS_VALUES = ['pending', 'connected', 'disconnected', 'error'] as const;

const httpUrl = z
  .url({ protocol: /^https?$/, error: 'must be an http(s) URL, e.g. https://api.example.com/v1' })
  .max(2000);

/** Non-secret settings. Secrets belong in `credentials`, which is encrypted. */
export const integrationConfigSchema = z
  .object({
    baseUrl: httpUrl
      .optional()
      .describe("the provider's API root (required for openai-compatible; default: the provider's)"),
    testModel: z
      .string()
      .min(1)
      .max(200)
      .optional()
      .describe('model name the connection test calls (default: a small model of the provider)'),
    organization: z.string().max(200).optional().describe('OpenAI organization id'),
    project: z.string().max(200).optional().describe('OpenAI project id'),
    headers: z
      .record(z.string().max(200), z.string().max(2000))
      .optional()
      .describe('extra HTTP headers sent with every call (not secret: use credentials for keys)'),
    structuredOutputs: z
      .boolean()
      .optional()
      .describe('openai-compatible servers that accept response_format json_schema'),
  })
  .strict();
export type IntegrationConfig = z.infer<typeof integrationConfigSchema>;

export const integrationCredentialsSchema = z
  .object({
    apiKey: z
      .string()
      .trim()
      .min(8, 'an API key has at least 8 characters')
      .max(4000)
      .regex(/^\S+$/, 'an API key has no spaces'),
  })
  .strict();

export const createIntegrationBodySchema = z
  .object({
    name: z.string().trim().min(1).max(255),
    category: z.enum(INTEGRATION_CATEGORY_VALUES).default('llm_provider'),
    provider: z.enum(INTEGRATION_PROVIDER_VALUES),
    config: integrationConfigSchema.default({}),
    credentials: integrationCredentialsSchema
      .optional()
      .describe('encrypted at rest and never returned; optional only for ollama and openai-compatible'),
    isDefault: z
      .boolean()
      .optional()
      .describe('use it for its provider when an agent names no integration (default: true for the first)'),
  })
  .meta({ id: 'CreateIntegration' });
export type CreateIntegrationBody = z.infer<typeof createIntegrationBodySchema>;

export const updateIntegrationBodySchema = z
  .object({
    name: z.string().trim().min(1).max(255).optional(),
    config: integrationConfigSchema.optional().describe('replaces the whole config'),
    credentials: integrationCredentialsSchema
      .nullable()
      .optional()
      .describe('rotates the credential (null removes it; keyless providers only)'),
    isDefault: z.literal(true).optional().describe('make it the default for its provider'),
    status: z.enum(['disconnected']).optional().describe('disconnect; a successful test reconnects'),
  })
  .refine((b) => Object.keys(b).length > 0, 'send at least one field to change')
  .meta({ id: 'UpdateIntegration' });
export type UpdateIntegrationBody = z.infer<typeof updateIntegrationBodySchema>;

export const integrationUsageTotalsSchema = z.object({
  requests: z.number().int(),
  inputTokens: z.number().int(),
  outputTokens: z.number().int(),
  totalTokens: z.number().int(),
  costUsd: z.string().describe('exact decimal'),
  lastUsedAt: z.string().nullable(),
});

export const integrationSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    category: z.enum(INTEGRATION_CATEGORY_VALUES),
    provider: z.string(),
    config: z.record(z.string(), z.unknown()),
    hasCredentials: z.boolean(),
    credentialHint: z.string().nullable().describe('a masked hint of the key, e.g. sk-…abcd'),
    credentialsKeyId: z.string().nullable().describe('the encryption key id the credential is under'),
    isDefault: z.boolean(),
    status: z.enum(INTEGRATION_STATUS_VALUES),
    lastError: z.string().nullable(),
    lastTestedAt: z.string().nullable(),
    connectedAt: z.string().nullable(),
    usage: integrationUsageTotalsSchema,
    createdBy: z.uuid().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Integration' });
export type IntegrationDto = z.infer<typeof integrationSchema>;

export const integrationListQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().min(1).max(500).optional(),
  provider: z.enum(INTEGRATION_PROVIDER_VALUES).optional(),
  status: z.enum(INTEGRATION_STATUS_VALUES).optional(),
});

export const testIntegrationBodySchema = z
  .object({
    model: z
      .string()
      .min(1)
      .max(200)
      .optional()
      .describe('model name to call (default: config.testModel or a small model of the provider)'),
  })
  .strict();

export const testIntegrationResponseSchema = z
  .object({
    ok: z.boolean(),
    status: z.enum(INTEGRATION_STATUS_VALUES),
    model: z.string().nullable(),
    latencyMs: z.number().int(),
    error: z.object({ code: z.string(), message: z.string() }).nullable(),
    integration: integrationSchema,
  })
  .meta({ id: 'IntegrationTestResult' });

export const integrationUsageSchema = z
  .object({
    integrationId: z.uuid(),
    provider: z.string(),
    totals: integrationUsageTotalsSchema,
    byModel: z
      .array(
        z.object({
          model: z.string(),
          calls: z.number().int(),
          inputTokens: z.number().int(),
          outputTokens: z.number().int(),
          totalTokens: z.number().int(),
          costUsd: z.string(),
        }),
      )
      .describe(
        "step attempts of this organization's runs on this provider's models (all its integrations of the provider)",
      ),
  })
  .meta({ id: 'IntegrationUsage' });
