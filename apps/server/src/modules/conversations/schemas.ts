import { CONVERSATION_MODES, CONVERSATION_VISIBILITIES } from '@aiops/db';
import { z } from 'zod';

/** A model id as agents name it: `provider:model`. */
const modelId = z
  .string()
  .max(255)
  .regex(/^[a-z0-9][a-z0-9_-]*:.+$/, 'must be provider:model, e.g. openai:gpt-4o-mini or simulator:echo');

export const participantInputSchema = z
  .object({
    id: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,40}$/, 'letters, digits, - and _ (at most 40)')
      .optional()
      .describe('stable id within the conversation (default p1, p2, …)'),
    name: z.string().trim().min(1).max(100).optional(),
    model: modelId.optional().describe('the model to call; or agentId to use an agent’s model and prompt'),
    integrationId: z.uuid().optional(),
    agentId: z.uuid().optional(),
    temperature: z.number().min(0).max(2).optional(),
    maxTokens: z.number().int().min(1).max(200_000).optional(),
    simulate: z.record(z.string(), z.unknown()).optional().describe('simulator settings (simulator models)'),
  })
  .refine((p) => p.model !== undefined || p.agentId !== undefined, 'give model or agentId');

export const conversationSettingsSchema = z.object({
  rounds: z.number().int().min(1).max(5).optional().describe('collaborative: turns per participant'),
  synthesizer: z
    .string()
    .max(40)
    .optional()
    .describe('collaborative: participant id that writes the synthesis'),
  budgetUsd: z.number().min(0).max(1_000_000).optional().describe('the most this conversation may spend'),
  historyTokens: z
    .number()
    .int()
    .min(100)
    .max(1_000_000)
    .optional()
    .describe('history sent to a model is windowed to this many tokens (default 8000)'),
  glossary: z
    .object({ enabled: z.boolean(), tokenBudget: z.number().int().min(10).max(20_000).optional() })
    .optional(),
  taskKind: z
    .string()
    .regex(/^[a-z0-9_-]{1,40}$/)
    .optional()
    .describe('the kind of task (learning groups model preferences by it; default chat)'),
});

export const createConversationBodySchema = z
  .object({
    title: z.string().trim().max(500).optional(),
    mode: z.enum(CONVERSATION_MODES).default('single'),
    participants: z.array(participantInputSchema).min(1).max(8),
    systemPrompt: z.string().max(50_000).optional(),
    context: z.record(z.string(), z.unknown()).default({}),
    settings: conversationSettingsSchema.default({}),
    metadata: z.record(z.string(), z.unknown()).default({}),
    visibility: z
      .enum(CONVERSATION_VISIBILITIES)
      .optional()
      .describe(
        'private: its author only (default for a signed-in user); organization: every member (default, and the only choice, for an API key)',
      ),
  })
  .meta({ id: 'CreateConversation' });
export type CreateConversationBody = z.infer<typeof createConversationBodySchema>;

export const updateConversationBodySchema = z
  .object({
    title: z.string().trim().max(500).nullable().optional(),
    systemPrompt: z.string().max(50_000).nullable().optional(),
    context: z.record(z.string(), z.unknown()).optional(),
    settings: conversationSettingsSchema.optional(),
    visibility: z.enum(CONVERSATION_VISIBILITIES).optional().describe('only the author can change it'),
  })
  .refine((b) => Object.keys(b).length > 0, 'send at least one field to change');

export const participantSchema = z.object({
  id: z.string(),
  name: z.string(),
  model: z.string(),
  integrationId: z.string().optional(),
  agentId: z.string().optional(),
  temperature: z.number().optional(),
  maxTokens: z.number().optional(),
  simulate: z.record(z.string(), z.unknown()).optional(),
});

export const conversationSchema = z
  .object({
    id: z.uuid(),
    title: z.string().nullable(),
    mode: z.enum(CONVERSATION_MODES),
    participants: z.array(participantSchema),
    systemPrompt: z.string().nullable(),
    context: z.record(z.string(), z.unknown()),
    settings: z.record(z.string(), z.unknown()),
    metadata: z.record(z.string(), z.unknown()),
    userId: z.string().nullable(),
    visibility: z.enum(CONVERSATION_VISIBILITIES),
    totalTokens: z.number(),
    totalCost: z.number(),
    totalCostExact: z.string(),
    lastMessageAt: z.string().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Conversation' });

export const attachmentRefSchema = z.object({
  id: z.string(),
  name: z.string(),
  mediaType: z.string(),
  sizeBytes: z.number(),
});

export const messageSchema = z
  .object({
    id: z.uuid(),
    conversationId: z.uuid(),
    senderType: z.enum(['user', 'ai']),
    senderId: z.string().nullable(),
    senderName: z.string().nullable(),
    model: z.string().nullable(),
    kind: z.string(),
    replyTo: z.string().nullable(),
    round: z.number(),
    status: z.enum(['completed', 'failed']),
    content: z.string(),
    error: z.object({ code: z.string(), message: z.string() }).nullable(),
    tokens: z.object({ input: z.number(), output: z.number(), total: z.number() }),
    cost: z.number(),
    costExact: z.string(),
    latencyMs: z.number().nullable(),
    attachments: z.array(attachmentRefSchema),
    metadata: z.record(z.string(), z.unknown()),
    rating: z.number().nullable(),
    createdAt: z.string(),
  })
  .meta({ id: 'ConversationMessage' });

export const sendMessageBodySchema = z.object({
  content: z.string().trim().min(1).max(100_000),
  attachments: z.array(z.uuid()).max(10).default([]),
  participants: z
    .array(z.string().max(40))
    .max(8)
    .optional()
    .describe('answer with these participants only (default: as the mode says)'),
});

export const sendMessageResponseSchema = z.object({
  message: messageSchema,
  answers: z.array(messageSchema),
  conversation: conversationSchema,
});

export const rateBodySchema = z
  .object({
    thumbs: z.enum(['up', 'down']).optional(),
    score: z.number().int().min(1).max(5).optional(),
  })
  .refine(
    (b) => (b.thumbs === undefined) !== (b.score === undefined),
    'give thumbs (up/down) or score (1–5)',
  );

export const messageParamsSchema = z.object({ id: z.uuid(), messageId: z.uuid() });

export const messagesQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(200),
});

export const ATTACHMENT_MEDIA_TYPES = [
  'text/plain',
  'text/markdown',
  'text/csv',
  'application/json',
  'image/png',
  'image/jpeg',
  'image/gif',
  'image/webp',
] as const;

export const createAttachmentBodySchema = z.object({
  name: z.string().trim().min(1).max(255),
  mediaType: z.enum(ATTACHMENT_MEDIA_TYPES),
  /** Text files: the text. Images: base64. */
  text: z.string().max(600_000).optional(),
  base64: z
    .string()
    .max(700_000)
    .regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be base64')
    .optional(),
});

export const attachmentSchema = attachmentRefSchema.extend({ createdAt: z.string() });
