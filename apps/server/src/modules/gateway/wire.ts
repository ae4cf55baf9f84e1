/**
 * The OpenAI wire format of the gateway: request bodies of `/v1/chat/completions` and `/v1/embeddings`
 * (bounded), their translation to our `ModelRequest`, and answers as OpenAI's clients parse them (a
 * `chat.completion`, `chat.completion.chunk` server-sent events, an embeddings list, the error body).
 */
import type { ChatMessage, ClientModelTool, ModelResult, ModelToolCall } from '@aiops/core';
import { badRequest } from '@aiops/core';
import { z } from 'zod';

const MAX_TEXT = 1_000_000;
const text = z.string().max(MAX_TEXT);

const contentPart = z.object({ type: z.string().max(40), text: text.optional() }).passthrough();

const toolCallSchema = z.object({
  id: z.string().min(1).max(200),
  type: z.literal('function').default('function'),
  function: z.object({ name: z.string().min(1).max(128), arguments: text }),
});

const messageSchema = z.object({
  role: z.enum(['system', 'developer', 'user', 'assistant', 'tool']),
  content: z.union([text, z.array(contentPart).max(100), z.null()]).optional(),
  name: z.string().max(128).optional(),
  tool_calls: z.array(toolCallSchema).max(128).optional(),
  tool_call_id: z.string().max(200).optional(),
});

/** An alias (`[A-Za-z0-9._/-]`, no colon) or `provider:model`. */
export const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._/@+-]*(:[A-Za-z0-9._/@:+-]+)?$/;
const modelField = z.string().min(1).max(255).regex(MODEL_NAME, 'must be provider:model or an alias');

export const chatBodySchema = z.object({
  model: modelField,
  messages: z.array(messageSchema).min(1).max(2000),
  stream: z.boolean().optional(),
  stream_options: z.object({ include_usage: z.boolean().optional() }).nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  max_tokens: z.number().int().min(1).max(1_000_000).nullish(),
  max_completion_tokens: z.number().int().min(1).max(1_000_000).nullish(),
  tools: z
    .array(
      z.object({
        type: z.literal('function'),
        function: z.object({
          name: z
            .string()
            .min(1)
            .max(64)
            .regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, _ and - only'),
          description: z.string().max(10_000).optional(),
          parameters: z.record(z.string(), z.unknown()).optional(),
        }),
      }),
    )
    .max(128)
    .optional(),
  tool_choice: z
    .union([
      z.enum(['none', 'auto', 'required']),
      z.object({ type: z.literal('function'), function: z.object({ name: z.string().max(64) }) }),
    ])
    .optional(),
  response_format: z
    .object({
      type: z.enum(['text', 'json_object', 'json_schema']),
      json_schema: z
        .object({ name: z.string().max(64), schema: z.record(z.string(), z.unknown()).optional() })
        .optional(),
    })
    .optional(),
  user: z.string().max(256).optional(),
  /** Fallback models after `model`, tried in order (as OpenRouter's `models`). */
  models: z.array(modelField).max(5).optional(),
});
export type ChatBody = z.infer<typeof chatBodySchema>;

export const embeddingsBodySchema = z.object({
  model: modelField,
  input: z.union([text, z.array(z.string().max(100_000)).min(1).max(2048)]),
  encoding_format: z.enum(['float', 'base64']).optional(),
  dimensions: z.number().int().min(1).max(10_000).optional(),
  user: z.string().max(256).optional(),
});
export type EmbeddingsBody = z.infer<typeof embeddingsBodySchema>;

function textOf(content: ChatBody['messages'][number]['content'], path: string): string {
  if (content === undefined || content === null) return '';
  if (typeof content === 'string') return content;
  return content
    .map((p, i) => {
      if (p.type !== 'text' || typeof p.text !== 'string')
        throw badRequest(
          `${path}[${i}].type "${p.type}" is not supported by the gateway: send text parts only`,
          { issues: [{ path: `body.${path}[${i}].type`, message: 'only text parts are supported' }] },
        );
      return p.text;
    })
    .join('');
}

function parseArguments(args: string, path: string): unknown {
  if (args.trim() === '') return {};
  try {
    return JSON.parse(args);
  } catch {
    throw badRequest(`${path} is not JSON: send the arguments the model produced, as a JSON string`, {
      issues: [{ path: `body.${path}`, message: 'must be a JSON string' }],
    });
  }
}

/** The chat messages as the model port takes them (system and developer messages as system turns). */
export function toChatMessages(body: ChatBody): ChatMessage[] {
  const names = new Map<string, string>();
  return body.messages.map((m, i): ChatMessage => {
    const content = textOf(m.content, `messages[${i}].content`);
    switch (m.role) {
      case 'system':
      case 'developer':
        return { role: 'system', content };
      case 'user':
        return { role: 'user', content };
      case 'assistant': {
        if (!m.tool_calls?.length) return { role: 'assistant', content };
        const toolCalls = m.tool_calls.map((c, j) => {
          names.set(c.id, c.function.name);
          return {
            id: c.id,
            name: c.function.name,
            input: parseArguments(c.function.arguments, `messages[${i}].tool_calls[${j}].function.arguments`),
          };
        });
        return { role: 'assistant', content, toolCalls };
      }
      default: {
        if (!m.tool_call_id)
          throw badRequest(`messages[${i}].tool_call_id is required on a tool message`, {
            issues: [{ path: `body.messages[${i}].tool_call_id`, message: 'required' }],
          });
        const toolName = names.get(m.tool_call_id) ?? m.name;
        return { role: 'tool', content, toolCallId: m.tool_call_id, ...(toolName ? { toolName } : {}) };
      }
    }
  });
}

/** The client's tools, offered to the model without `execute`: the client runs them. */
export function toClientTools(body: ChatBody): ClientModelTool[] | undefined {
  if (!body.tools?.length || body.tool_choice === 'none') return undefined;
  return body.tools.map((t) => ({
    name: t.function.name,
    description: t.function.description ?? '',
    inputSchema: t.function.parameters ?? { type: 'object', properties: {} },
  }));
}

const FINISH: Record<string, string> = {
  stop: 'stop',
  length: 'length',
  'content-filter': 'content_filter',
  'tool-calls': 'tool_calls',
};

export function finishReasonOf(result: ModelResult): string {
  if (result.toolCalls.length) return 'tool_calls';
  return FINISH[result.finishReason] ?? 'stop';
}

export function wireToolCalls(calls: readonly ModelToolCall[]) {
  return calls.map((c) => ({
    id: c.id,
    type: 'function' as const,
    function: {
      name: c.name,
      arguments: typeof c.input === 'string' ? c.input : JSON.stringify(c.input ?? {}),
    },
  }));
}

export function wireUsage(result: ModelResult) {
  return {
    prompt_tokens: result.usage.inputTokens,
    completion_tokens: result.usage.outputTokens,
    total_tokens: result.usage.totalTokens,
    prompt_tokens_details: { cached_tokens: result.usage.cachedInputTokens },
    completion_tokens_details: { reasoning_tokens: result.usage.reasoningTokens },
  };
}

export function completionBody(id: string, model: string, result: ModelResult) {
  const calls = wireToolCalls(result.toolCalls);
  return {
    id,
    object: 'chat.completion' as const,
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant' as const,
          content: result.text === '' && calls.length ? null : result.text,
          ...(calls.length ? { tool_calls: calls } : {}),
          refusal: null,
        },
        logprobs: null,
        finish_reason: finishReasonOf(result),
      },
    ],
    usage: wireUsage(result),
  };
}

export function chunk(
  id: string,
  model: string,
  created: number,
  delta: Record<string, unknown> | undefined,
  extra: Record<string, unknown> = {},
) {
  return {
    id,
    object: 'chat.completion.chunk',
    created,
    model,
    choices: delta ? [{ index: 0, delta, logprobs: null, finish_reason: null, ...extra }] : [],
    ...(delta ? {} : extra),
  };
}

/** An embedding as OpenAI sends it: floats, or the little-endian float32 bytes in base64. */
export function encodeEmbedding(v: number[], format: 'float' | 'base64'): number[] | string {
  if (format === 'float') return v;
  return Buffer.from(new Float32Array(v).buffer).toString('base64');
}

/** OpenAI's `error.type` for a status. */
export function errorType(status: number, code: string): string {
  if (code === 'budget_exceeded' || code === 'quota_exceeded') return 'insufficient_quota';
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 404) return 'not_found_error';
  if (status === 429) return 'rate_limit_error';
  if (status >= 500) return 'server_error';
  return 'invalid_request_error';
}
