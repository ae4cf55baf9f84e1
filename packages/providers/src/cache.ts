/**
 * Response cache (opt-in per agent through `ModelRequest.cacheTtlMs`): identical requests within the TTL
 * return the stored answer at zero cost, marked `cached`.
 *
 * "Identical" is the cache key: a SHA-256 over the organization (answers never cross tenants), the
 * integration, the model, the parameters (temperature, top_p, max tokens, max steps), the system prompt,
 * the messages and prompt, the tools (name, description, input schema) and the output schema, each
 * serialized with sorted keys so that key order in a schema does not matter.
 */
import { createHash } from 'node:crypto';
import type { ModelRequest, ModelToolCall } from '@aiops/core';

/** What the cache keeps of an answer. */
export interface CachedAnswer {
  text: string;
  output?: unknown;
  finishReason: string;
  toolCalls: ModelToolCall[];
}

/** Storage for cached answers; the in-memory one below, a database-backed one in the server. */
export interface ResponseCache {
  /** `organizationId` is the request's (already part of the key): a store with row-level security needs it. */
  get(key: string, organizationId: string): Promise<CachedAnswer | undefined>;
  set(key: string, answer: CachedAnswer, ttlMs: number, organizationId: string): Promise<void>;
}

/** JSON with object keys sorted at every depth; functions and undefined dropped (as JSON.stringify does). */
export function stableStringify(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value))
    return `[${value.map((v) => (v === undefined ? 'null' : stableStringify(v))).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined && typeof v !== 'function')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${JSON.stringify(k)}:${stableStringify(v)}`);
  return `{${entries.join(',')}}`;
}

export function cacheKey(request: ModelRequest): string {
  const identity = {
    v: 1,
    org: request.organizationId,
    integration: request.integrationId ?? null,
    model: request.model,
    params: {
      temperature: request.temperature,
      topP: request.topP,
      maxTokens: request.maxTokens,
      maxSteps: request.maxSteps,
    },
    system: request.system ?? null,
    messages: request.messages ?? [],
    prompt: request.prompt ?? null,
    tools: (request.tools ?? []).map((t) => ({
      name: t.name,
      description: t.description,
      inputSchema: t.inputSchema,
    })),
    outputSchema: request.outputSchema ?? null,
    ...(request.clientTools?.length
      ? {
          clientTools: request.clientTools.map((t) => ({
            name: t.name,
            description: t.description,
            inputSchema: t.inputSchema,
          })),
        }
      : {}),
    simulate: request.simulate ?? null,
  };
  return createHash('sha256').update(stableStringify(identity)).digest('hex');
}

export interface InMemoryResponseCacheOptions {
  /** Entries kept at most; the oldest inserted goes first. */
  maxEntries?: number;
  now?: () => number;
}

/** A process-local cache with TTLs: for a single process, tests, and as the model of the interface. */
export class InMemoryResponseCache implements ResponseCache {
  private readonly entries = new Map<string, { answer: CachedAnswer; expiresAt: number }>();
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(options: InMemoryResponseCacheOptions = {}) {
    this.maxEntries = options.maxEntries ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  async get(key: string): Promise<CachedAnswer | undefined> {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (e.expiresAt <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return structuredClone(e.answer);
  }

  async set(key: string, answer: CachedAnswer, ttlMs: number): Promise<void> {
    if (!(ttlMs > 0)) return;
    this.entries.delete(key);
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(key, { answer: structuredClone(answer), expiresAt: this.now() + ttlMs });
  }

  get size(): number {
    return this.entries.size;
  }
}
