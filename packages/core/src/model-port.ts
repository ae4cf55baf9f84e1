/**
 * The port through which the engine calls a language model. The simulator provider (packages/engine) and
 * the real providers on the Vercel AI SDK (packages/providers) implement it; the engine knows nothing else
 * about providers.
 *
 * Glossary:
 * - model id: `provider:model`, e.g. `openai:gpt-4o-mini`, `simulator:echo`.
 * - usage: token counts as the provider reported them; `estimated` when none were reported and a
 *   tokenizer counted instead.
 */
import type { AppError } from './errors.ts';

export type JsonSchema = Record<string, unknown>;

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant' | 'tool';
  content: string;
  /** For role `tool`: the id of the call this message answers. */
  toolCallId?: string;
  /** For role `tool`: the tool's name. */
  toolName?: string;
  /** For role `assistant`: the tool calls it made (the gateway passes a client's tool turns through). */
  toolCalls?: { id: string; name: string; input: unknown }[];
}

/** A tool offered to the model. `execute` runs it; its result goes back to the model. */
export interface ModelTool {
  name: string;
  description: string;
  inputSchema: JsonSchema;
  execute(input: unknown, signal: AbortSignal): Promise<unknown>;
}

/** A tool the caller runs itself (the gateway's clients): the call ends with the model's calls to it. */
export type ClientModelTool = Omit<ModelTool, 'execute'>;

export interface ModelUsage {
  /** All input tokens, those read from or written to the provider's prompt cache included. */
  inputTokens: number;
  /** All output tokens, reasoning tokens included. */
  outputTokens: number;
  /** Input tokens read from the provider's prompt cache; part of `inputTokens`. */
  cachedInputTokens: number;
  /** Output tokens spent on reasoning; part of `outputTokens`. */
  reasoningTokens: number;
  /** Input tokens written to the provider's prompt cache (Anthropic); part of `inputTokens`. */
  cacheWriteInputTokens?: number;
  totalTokens: number;
  /** True when the provider reported no usage and a tokenizer estimated it. */
  estimated: boolean;
}

export interface SimulateSettings {
  latencyMs?: number;
  failTimes?: number;
  failWith?: 'retryable' | 'fatal';
  output?: unknown;
  /** The first case whose words the prompt contains (any of them, ignoring case) answers with its output. */
  when?: { contains: string[]; output: unknown }[];
}

export interface ModelRequest {
  /** `provider:model`. */
  model: string;
  system?: string;
  /** The rendered prompt; appended as the last user message. */
  prompt?: string;
  messages?: ChatMessage[];
  /** Images sent with the prompt (base64), to models that accept them; the simulator ignores them. */
  images?: { mediaType: string; data: string }[];
  temperature?: number;
  topP?: number;
  maxTokens?: number;
  /** JSON Schema the answer must satisfy (structured output); the parsed object is `ModelResult.output`. */
  outputSchema?: JsonSchema;
  tools?: ModelTool[];
  /** Tools offered without running them: the answer's `toolCalls` are for the caller to run. */
  clientTools?: ClientModelTool[];
  /** Cap on model ↔ tool round trips. */
  maxSteps?: number;
  /** Settings of the simulator provider; ignored by real providers. */
  simulate?: SimulateSettings;
  /** Which attempt of the step this is (1-based); the simulator's failTimes counts these. */
  attempt: number;
  /** run id + step id + attempt: lets a provider or cache recognise a repeat of the same call. */
  idempotencyKey: string;
  /** Integration to use (credentials); absent for the simulator. */
  integrationId?: string;
  organizationId: string;
  signal: AbortSignal;
  /** Streamed text deltas, as they arrive. */
  onToken?: (delta: string) => void;
  /**
   * The most this call may spend, in USD. Before calling, the worst case (prompt tokens by the tokenizer +
   * `maxTokens` of output, at the model's price) is checked; a call that could exceed it is not made
   * (`budget_exceeded`). In a tool loop, a further step that could exceed it is not made either.
   */
  budgetUsd?: number;
  /** Opt-in response cache: an identical request within this many ms returns the stored answer at zero cost. */
  cacheTtlMs?: number;
  /**
   * false: the caller adds this call's usage to its integration's counters itself, in its own bookkeeping
   * transaction (the gateway does, to write all of a call's records at once). Default: the port does.
   */
  countUsage?: boolean;
}

export interface ModelToolCall {
  id: string;
  name: string;
  input: unknown;
  output?: unknown;
  error?: string;
}

export interface ModelResult {
  text: string;
  /** The parsed structured output when `outputSchema` was given. */
  output?: unknown;
  model: string;
  usage: ModelUsage;
  /** Cost in USD from the price catalog (0 for the simulator unless the catalog prices it). */
  costUsd: number;
  /** The same cost as an exact decimal string (for a `numeric` column); `costUsd` is its nearest double. */
  costUsdDecimal?: string;
  /** False when no price applies to the model: the cost is unknown, not zero. */
  priced?: boolean;
  finishReason: string;
  toolCalls: ModelToolCall[];
  /** Served from the response cache: no provider call was made, cost 0. */
  cached: boolean;
  /** The integration whose credentials made the call (absent for the simulator and cached answers). */
  integrationId?: string;
}

/**
 * Failures a provider raises are `AppError`s with these codes; `retryable` and, for rate limits,
 * `details.retryAfterMs` tell the engine what to do.
 */
export type ModelErrorCode =
  | 'provider_rate_limited'
  | 'provider_auth_failed'
  | 'provider_invalid_request'
  | 'provider_unavailable'
  | 'budget_exceeded'
  | 'model_not_found';

export interface ModelPort {
  call(request: ModelRequest): Promise<ModelResult>;
}

export type ModelError = AppError & { code: ModelErrorCode };

export interface EmbeddingRequest {
  /** `provider:model`, e.g. `openai:text-embedding-3-small`, `simulator:embed`. */
  model: string;
  texts: string[];
  organizationId: string;
  integrationId?: string;
  signal: AbortSignal;
}

export interface EmbeddingResult {
  embeddings: number[][];
  /** Input tokens as the provider reported them (0 when it reports none). */
  tokens: number;
}

/** Text embeddings, for semantic memory. */
export interface EmbeddingPort {
  embed(request: EmbeddingRequest): Promise<EmbeddingResult>;
}
