import type { EmbeddingPort } from '@aiops/core';
import { type Database, organizations, type Tx } from '@aiops/db';

export const TERMINOLOGY_NAMESPACE = 'terminology';
export const DEFAULT_EMBEDDING_MODEL = 'simulator:embed';

/** Embeds texts with the organization's embedding model (`settings.embeddingModel`, default simulator:embed). */
export type Embedder = (organizationId: string, texts: string[]) => Promise<number[][]>;

export async function embeddingModelOf(tx: Tx): Promise<string> {
  const [org] = await tx.select({ settings: organizations.settings }).from(organizations);
  const m = org?.settings.embeddingModel;
  return typeof m === 'string' && m.includes(':') ? m : DEFAULT_EMBEDDING_MODEL;
}

export function makeEmbedder(db: Database, port: EmbeddingPort): Embedder {
  return async (organizationId, texts) => {
    if (!texts.length) return [];
    const model = await db.withTenant(organizationId, embeddingModelOf);
    const out: number[][] = [];
    for (let i = 0; i < texts.length; i += 100) {
      const res = await port.embed({
        model,
        texts: texts.slice(i, i + 100),
        organizationId,
        signal: AbortSignal.timeout(60_000),
      });
      out.push(...res.embeddings);
    }
    return out;
  };
}

/** What a term's embedding is made of. */
export const termText = (t: { term: string; definition: string }) => `${t.term}: ${t.definition}`;
