import { z } from 'zod';
import { real4 } from './numbers.ts';
import {
  codeSourceFields,
  jsonSchemaObject,
  memoryConfigSchema,
  modelIdSchema,
  simulateSchema,
} from './workflow.ts';

export const AGENT_KIND_VALUES = ['llm', 'code', 'external'] as const;
export const AGENT_TYPE_VALUES = ['coordinator', 'specialist', 'analyzer', 'custom'] as const;
export const AGENT_STATUS_VALUES = ['draft', 'active', 'inactive', 'error'] as const;
export const AGENT_FRAMEWORK_VALUES = ['langgraph', 'agno', 'crewai', 'n8n', 'custom'] as const;

const agentFields = {
  name: z.string().trim().min(1).max(255),
  description: z.string().max(10_000).nullable().optional(),
  kind: z
    .enum(AGENT_KIND_VALUES)
    .default('llm')
    .describe(
      'llm: a model with a prompt; code: runs its `code` in the sandbox; external: reached by webhook',
    ),
  type: z.enum(AGENT_TYPE_VALUES).default('specialist'),
  status: z.enum(AGENT_STATUS_VALUES).default('active'),
  framework: z.enum(AGENT_FRAMEWORK_VALUES).nullable().optional(),
  model: modelIdSchema,
  temperature: real4(0, 2).nullable().optional(),
  topP: real4(0, 1).nullable().optional(),
  maxTokens: z.number().int().min(1).max(1_000_000).nullable().optional(),
  systemPrompt: z.string().max(100_000).nullable().optional(),
  promptTemplate: z
    .string()
    .max(100_000)
    .describe('template: {{input.x}}, {{variables.y}}, {{nodes.id.output}}'),
  outputSchema: jsonSchemaObject.nullable().optional().describe('JSON Schema of a structured answer'),
  code: z
    .object(codeSourceFields)
    .strict()
    .nullable()
    .optional()
    .describe('kind code (required there): the code it runs, as a code step — { language, code, network }'),
  tools: z.array(z.string().min(1).max(100)).max(100).default([]),
  toolConfigs: z.record(z.string(), z.unknown()).default({}),
  memoryConfig: memoryConfigSchema.default({}),
  integrationId: z.uuid().nullable().optional(),
  simulate: simulateSchema.nullable().optional(),
  costLimitPerRequest: z.number().min(0).max(999_999).nullable().optional().describe('USD per model call'),
  webhookUrl: z
    .url()
    .max(2000)
    .nullable()
    .optional()
    .describe('external agents: where they are called, with Standard Webhooks-signed POSTs'),
  schedule: z
    .string()
    .max(255)
    .nullable()
    .optional()
    .describe('cron expression, UTC (PUT /agents/:id/schedule sets a time zone and the run input)'),
  resourceLimits: z.record(z.string(), z.unknown()).nullable().optional(),
  metadata: z.record(z.string(), z.unknown()).default({}),
  enabled: z.boolean().default(true),
};

export const createAgentBodySchema = z.object(agentFields).meta({ id: 'CreateAgent' });
export type CreateAgentBody = z.infer<typeof createAgentBodySchema>;

export const updateAgentBodySchema = z
  .object(
    // A field left out of a change keeps its value: no defaults here (they would reset kind, type, tools…).
    Object.fromEntries(
      Object.entries(agentFields).map(([k, v]) => [
        k,
        (v instanceof z.ZodDefault ? (v.unwrap() as z.ZodType) : (v as z.ZodType)).optional(),
      ]),
    ) as {
      [K in keyof typeof agentFields]: z.ZodOptional<(typeof agentFields)[K]>;
    },
  )
  .refine((b) => Object.keys(b).length > 0, 'send at least one field to change')
  .meta({ id: 'UpdateAgent' });
export type UpdateAgentBody = z.infer<typeof updateAgentBodySchema>;

export const agentSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    description: z.string().nullable(),
    kind: z.enum(AGENT_KIND_VALUES),
    type: z.enum(AGENT_TYPE_VALUES),
    status: z.enum(AGENT_STATUS_VALUES),
    framework: z.enum(AGENT_FRAMEWORK_VALUES).nullable(),
    version: z.string().describe('semantic version, bumped on every save'),
    versionNumber: z.number().int(),
    model: z.string(),
    temperature: z.number().nullable(),
    topP: z.number().nullable(),
    maxTokens: z.number().int().nullable(),
    systemPrompt: z.string().nullable(),
    promptTemplate: z.string(),
    outputSchema: z.record(z.string(), z.unknown()).nullable(),
    code: z
      .object({
        language: z.enum(['javascript', 'typescript']),
        code: z.string(),
        network: z.object({ allowedHosts: z.array(z.string()) }).optional(),
      })
      .nullable(),
    tools: z.array(z.string()),
    toolConfigs: z.record(z.string(), z.unknown()),
    memoryConfig: z.record(z.string(), z.unknown()),
    integrationId: z.string().nullable(),
    simulate: z.record(z.string(), z.unknown()).nullable(),
    costLimitPerRequest: z.number().nullable(),
    webhookUrl: z.string().nullable(),
    webhookSecretHint: z
      .string()
      .nullable()
      .describe('external agents with a webhook_url: the hint of the secret that signs every call to it'),
    webhookSecret: z
      .string()
      .optional()
      .describe(
        'the signing secret, shown once: when an external agent first gets a webhook_url (rotate: POST /agents/:id/schedule/secret)',
      ),
    schedule: z.string().nullable(),
    lastHeartbeatAt: z.string().nullable(),
    resourceLimits: z.record(z.string(), z.unknown()).nullable(),
    metadata: z.record(z.string(), z.unknown()),
    enabled: z.boolean(),
    createdBy: z.string().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Agent' });
export type AgentDto = z.infer<typeof agentSchema>;

export const agentVersionSchema = z
  .object({
    id: z.uuid(),
    agentId: z.uuid(),
    versionNumber: z.number().int(),
    version: z.string(),
    name: z.string(),
    configuration: z.record(z.string(), z.unknown()),
    createdBy: z.string().nullable(),
    createdAt: z.string(),
  })
  .meta({ id: 'AgentVersion' });

export const agentListQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().min(1).max(500).optional(),
  q: z.string().max(255).optional().describe('fuzzy match on the name'),
  status: z.enum(AGENT_STATUS_VALUES).optional(),
  type: z.enum(AGENT_TYPE_VALUES).optional(),
});

export const tryAgentBodySchema = z.object({
  input: z.record(z.string(), z.unknown()).default({}).describe('template variables: {{input.x}}'),
  variables: z.record(z.string(), z.unknown()).default({}),
});
export const tryAgentResponseSchema = z.object({
  output: z.unknown(),
  text: z.string(),
  model: z.string(),
  prompt: z.string(),
  system: z.string().nullable(),
  tokens: z.object({ input: z.number(), output: z.number(), total: z.number(), estimated: z.boolean() }),
  cost: z.number(),
  durationMs: z.number(),
});
