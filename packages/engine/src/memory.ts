/**
 * Agent memory. Short-term: the last N messages of a thread (`memory_messages`), given to the model before
 * the prompt and appended to after each call. Long-term (semantic): past exchanges embedded into the
 * `embeddings` table under a namespace, the most similar recalled into the system prompt.
 *
 * Writes are idempotent per step attempt's `source` (run, node, item), so a step re-executed after a crash
 * does not store its exchange twice.
 */
import type { MemoryConfig } from '@aiops/contracts';
import { AppError, type ChatMessage, type EmbeddingPort } from '@aiops/core';
import { type Database, memoryMessages, queryRows, type Tx } from '@aiops/db';
import { sql } from 'drizzle-orm';
import { type GlossarySource, glossaryFor } from './glossary.ts';

export const MEMORY_DEFAULTS = { maxMessages: 10, topK: 3 } as const;

/** What a call recalls: the thread's messages and the semantic matches. */
export interface Recall {
  messages: ChatMessage[];
  memories: string[];
  /** The embedding of the prompt, kept to store the exchange without embedding it twice. */
  promptEmbedding?: number[];
}

export interface MemoryScope {
  organizationId: string;
  /** The rendered thread key, when short-term memory is on. */
  threadKey?: string;
  /** The semantic namespace, when long-term memory is on. */
  namespace?: string;
  config: MemoryConfig;
  integrationId?: string;
  signal: AbortSignal;
}

export class AgentMemory {
  constructor(
    private readonly db: Database,
    private readonly embeddings: EmbeddingPort | undefined,
  ) {}

  private embedder(): EmbeddingPort {
    if (!this.embeddings)
      throw new AppError(
        500,
        'memory_unavailable',
        'semantic memory needs an embedding provider, and this worker has none',
        { retryable: false },
      );
    return this.embeddings;
  }

  /** The glossary block for a prompt from the organization's public dictionary (counted as used). */
  async glossary(
    organizationId: string,
    prompt: string,
    tokenBudget: number | undefined,
    source: GlossarySource,
  ) {
    return this.db.withTenant(organizationId, (tx) =>
      glossaryFor(this.db.embeddings, tx, prompt, tokenBudget, source),
    );
  }

  async recall(scope: MemoryScope, prompt: string): Promise<Recall> {
    const recall: Recall = { messages: [], memories: [] };
    const { config } = scope;
    const semantic = config.semantic && scope.namespace ? config.semantic : undefined;
    if (semantic) {
      const { embeddings } = await this.embedder().embed({
        model: semantic.embeddingModel,
        texts: [prompt],
        organizationId: scope.organizationId,
        ...(scope.integrationId ? { integrationId: scope.integrationId } : {}),
        signal: scope.signal,
      });
      recall.promptEmbedding = embeddings[0];
    }
    if (!scope.threadKey && !recall.promptEmbedding) return recall;
    await this.db.withTenant(scope.organizationId, async (tx) => {
      if (scope.threadKey) recall.messages = await maxMessages(tx, scope.threadKey, config.maxMessages);
      if (recall.promptEmbedding && semantic) {
        const matches = await this.db.embeddings.search(tx, {
          namespace: scope.namespace!,
          embedding: recall.promptEmbedding,
          limit: semantic.topK ?? MEMORY_DEFAULTS.topK,
        });
        const floor = semantic.minSimilarity ?? 0;
        recall.memories = matches.filter((m) => 1 - m.distance >= floor).map((m) => m.content);
      }
    });
    return recall;
  }

  /** Stores one exchange: in the thread, and (embedded) in the semantic namespace. */
  async remember(
    scope: MemoryScope,
    source: string,
    runId: string,
    exchange: { prompt: string; answer: string },
    recall: Recall,
  ): Promise<void> {
    const semantic = scope.config.semantic && scope.namespace ? scope.config.semantic : undefined;
    const content = `User: ${exchange.prompt}\nAssistant: ${exchange.answer}`;
    let embedding: number[] | undefined;
    if (semantic) {
      const { embeddings } = await this.embedder().embed({
        model: semantic.embeddingModel,
        texts: [content],
        organizationId: scope.organizationId,
        ...(scope.integrationId ? { integrationId: scope.integrationId } : {}),
        signal: scope.signal,
      });
      embedding = embeddings[0] ?? recall.promptEmbedding;
    }
    if (!scope.threadKey && !embedding) return;
    await this.db.withTenant(scope.organizationId, async (tx) => {
      if (scope.threadKey) {
        const row = { organizationId: scope.organizationId, threadKey: scope.threadKey, source, runId };
        await tx
          .insert(memoryMessages)
          .values([
            { ...row, role: 'user' as const, content: exchange.prompt },
            { ...row, role: 'assistant' as const, content: exchange.answer },
          ])
          .onConflictDoNothing();
      }
      if (embedding)
        await this.db.embeddings.upsert(tx, {
          organizationId: scope.organizationId,
          namespace: scope.namespace!,
          refId: source,
          content,
          embedding,
          metadata: { runId, threadKey: scope.threadKey ?? null },
        });
    });
  }
}

async function maxMessages(
  tx: Tx,
  threadKey: string,
  n: number = MEMORY_DEFAULTS.maxMessages,
): Promise<ChatMessage[]> {
  const rows = await queryRows<{ role: 'user' | 'assistant'; content: string }>(
    tx,
    sql`SELECT role, content FROM (
          SELECT role, content, created_at, id FROM memory_messages WHERE thread_key = ${threadKey}
          ORDER BY created_at DESC, role ASC LIMIT ${n}) m
        ORDER BY created_at ASC, role DESC`,
  );
  return rows.map((r) => ({ role: r.role, content: r.content }));
}

/** The namespace of semantic memory: configured, else the thread, else the agent (or workflow node). */
export function memoryNamespace(config: MemoryConfig, threadKey: string | undefined, owner: string): string {
  return `memory:${config.semantic?.namespace ?? threadKey ?? owner}`;
}
