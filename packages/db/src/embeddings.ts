import { sql } from 'drizzle-orm';
import { type Executor, queryRows } from './types.ts';

/**
 * How embeddings are stored: `pgvector` (the `vector` type and its `<=>` operator) where the server has
 * the extension, `fallback` (a `real[]` column and the SQL function `aiops_cosine_distance`) where it
 * does not. The API below is the same for both; migration 0002 chose the column type.
 */
export type VectorMode = 'pgvector' | 'fallback';

export interface EmbeddingInput {
  organizationId: string;
  namespace: string;
  refId: string;
  content: string;
  embedding: number[];
  metadata?: Record<string, unknown>;
}

export interface EmbeddingMatch {
  refId: string;
  content: string;
  metadata: Record<string, unknown>;
  /** Cosine distance: 0 is the same direction, 2 the opposite. */
  distance: number;
}

export interface TextMatch {
  refId: string;
  content: string;
  metadata: Record<string, unknown>;
  /** Trigram similarity in [0, 1]. */
  similarity: number;
}

export async function detectVectorMode(ex: Executor): Promise<VectorMode> {
  const [row] = await queryRows<{ type: string | null }>(
    ex,
    sql`SELECT format_type(atttypid, atttypmod) AS type FROM pg_attribute
        WHERE attrelid = to_regclass('public.embeddings') AND attname = 'embedding'`,
  );
  return row?.type?.startsWith('vector') ? 'pgvector' : 'fallback';
}

/** Embedding storage and nearest-neighbour search. Run it inside `withTenant`: rows are tenant-owned. */
export class EmbeddingStore {
  constructor(readonly mode: VectorMode) {}

  private literal(embedding: number[]) {
    if (embedding.length === 0 || !embedding.every(Number.isFinite)) {
      throw new TypeError('An embedding must be a non-empty array of finite numbers');
    }
    const body = embedding.join(',');
    return this.mode === 'pgvector' ? sql`${`[${body}]`}::vector` : sql`${`{${body}}`}::real[]`;
  }

  async upsert(ex: Executor, input: EmbeddingInput): Promise<void> {
    const vec = this.literal(input.embedding);
    await ex.execute(sql`
      INSERT INTO embeddings (organization_id, namespace, ref_id, content, metadata, dimensions, embedding)
      VALUES (${input.organizationId}, ${input.namespace}, ${input.refId}, ${input.content},
              ${JSON.stringify(input.metadata ?? {})}::jsonb, ${input.embedding.length}, ${vec})
      ON CONFLICT (organization_id, namespace, ref_id) DO UPDATE
        SET content = excluded.content, metadata = excluded.metadata, dimensions = excluded.dimensions,
            embedding = excluded.embedding, updated_at = now()`);
  }

  async remove(ex: Executor, namespace: string, refId: string): Promise<void> {
    await ex.execute(sql`DELETE FROM embeddings WHERE namespace = ${namespace} AND ref_id = ${refId}`);
  }

  /** The `limit` nearest rows of a namespace by cosine distance (rows of other dimensions are ignored). */
  async search(
    ex: Executor,
    query: { namespace: string; embedding: number[]; limit?: number },
  ): Promise<EmbeddingMatch[]> {
    const vec = this.literal(query.embedding);
    const distance =
      this.mode === 'pgvector' ? sql`(embedding <=> ${vec})` : sql`aiops_cosine_distance(embedding, ${vec})`;
    const rows = await queryRows<{
      ref_id: string;
      content: string;
      metadata: Record<string, unknown>;
      distance: number;
    }>(
      ex,
      sql`SELECT ref_id, content, metadata, ${distance}::float8 AS distance FROM embeddings
          WHERE namespace = ${query.namespace} AND dimensions = ${query.embedding.length}
          ORDER BY distance ASC, ref_id ASC LIMIT ${query.limit ?? 10}`,
    );
    return rows.map((r) => ({
      refId: r.ref_id,
      content: r.content,
      metadata: r.metadata,
      distance: Number(r.distance),
    }));
  }

  /** Fuzzy text search over the stored content with pg_trgm. */
  async searchText(
    ex: Executor,
    query: { namespace: string; text: string; limit?: number },
  ): Promise<TextMatch[]> {
    const rows = await queryRows<{
      ref_id: string;
      content: string;
      metadata: Record<string, unknown>;
      similarity: number;
    }>(
      ex,
      sql`SELECT ref_id, content, metadata, similarity(content, ${query.text})::float8 AS similarity FROM embeddings
          WHERE namespace = ${query.namespace} AND content % ${query.text}
          ORDER BY similarity DESC, ref_id ASC LIMIT ${query.limit ?? 10}`,
    );
    return rows.map((r) => ({
      refId: r.ref_id,
      content: r.content,
      metadata: r.metadata,
      similarity: Number(r.similarity),
    }));
  }
}
