/**
 * Hybrid search over the terminology dictionary, in one SQL statement: full-text (`search_vector`, English
 * stemming), fuzzy (pg_trgm similarity on the term) and semantic (cosine distance of the embeddings in
 * namespace `terminology`) candidates are merged into one ranked list. Row-level security on
 * `terminology_entries` decides what the caller may see (private entries: their author only).
 *
 * The lexical candidates come from `aiops_term_candidates` (migration: it can use the GIN indexes, which
 * row-level security would prevent); the context and tag filters apply to the merged list.
 *
 * Score: an exact term match adds 3; a full-text match adds 1 + its rank (≤ 1); a fuzzy match adds 1 + its
 * similarity; semantic similarity adds half of itself. So an exact match beats a lexical (full-text or
 * fuzzy) one, which beats a semantic-only one.
 */
import { type EmbeddingStore, queryRows, type Tx } from '@aiops/db';
import { type SQL, sql } from 'drizzle-orm';
import { TERMINOLOGY_NAMESPACE } from './embed.ts';

export const SEMANTIC_MIN_SIMILARITY = 0.15;
export const CANDIDATES = 50;

export interface SearchHit {
  id: string;
  score: number;
  exact: boolean;
  fullText: number | null;
  fuzzy: number | null;
  semantic: number | null;
}

export interface SearchFilter {
  context?: string | undefined;
  tag?: string | undefined;
}

export async function hybridSearch(
  store: EmbeddingStore,
  tx: Tx,
  q: { text: string; embedding?: number[] | undefined; limit: number } & SearchFilter,
  /** Nearest terms computed already (the in-process vector cache); else SQL computes them. */
  near?: { id: string; s: number }[],
): Promise<SearchHit[]> {
  const rows = await queryRows<{
    id: string;
    exact: boolean;
    fts: number | null;
    trg: number | null;
    sem: number | null;
    score: number;
  }>(tx, searchStatement(store, q, near));
  return rows.map((r) => ({
    id: r.id,
    score: Number(r.score),
    exact: r.exact,
    fullText: r.fts === null ? null : Number(r.fts),
    fuzzy: r.trg === null ? null : Number(r.trg),
    semantic: r.sem === null ? null : Number(r.sem),
  }));
}

/** The search statement of `hybridSearch` (exported so the benchmark can EXPLAIN ANALYZE it). */
export function searchStatement(
  store: EmbeddingStore,
  q: { text: string; embedding?: number[] | undefined; limit: number } & SearchFilter,
  near?: { id: string; s: number }[],
): SQL {
  const text = q.text.trim();
  const filters: SQL[] = [];
  if (q.context) filters.push(sql`t.context = ${q.context}`);
  if (q.tag) filters.push(sql`t.tags ? ${q.tag}`);
  const where = filters.length ? sql`AND ${sql.join(filters, sql` AND `)}` : sql``;
  // The nearest terms as two array parameters (not 100 scalars in a VALUES list): a shorter statement to
  // send, parse and plan. A JS number prints as the shortest decimal that reads back as the same float8.
  const semantic = near?.length
    ? sql`SELECT v.id, v.s FROM unnest(${`{${near.map((n) => n.id).join(',')}}`}::uuid[],
        ${`{${near.map((n) => n.s).join(',')}}`}::float8[]) AS v(id, s)`
    : q.embedding?.length && !near
      ? semanticCandidates(store, q.embedding)
      : sql`SELECT NULL::uuid AS id, 0::float8 AS s WHERE false`;
  return sql`WITH c AS (SELECT * FROM aiops_term_candidates(${text}, ${CANDIDATES})),
      fts AS (SELECT id, score AS r FROM c WHERE kind = 'fts'),
      trg AS (SELECT id, score AS s FROM c WHERE kind = 'trgm'),
      ex AS (SELECT id FROM c WHERE kind = 'exact'),
      sem AS (${semantic}),
      ids AS (SELECT id FROM fts UNION SELECT id FROM trg UNION SELECT id FROM ex UNION SELECT id FROM sem)
    SELECT t.id, (ex.id IS NOT NULL) AS exact, fts.r AS fts, trg.s AS trg, sem.s AS sem,
      (CASE WHEN ex.id IS NOT NULL THEN 3 ELSE 0 END
        + CASE WHEN fts.id IS NOT NULL THEN 1 + least(fts.r, 1) ELSE 0 END
        + CASE WHEN trg.id IS NOT NULL THEN 1 + trg.s ELSE 0 END
        + coalesce(sem.s, 0) / 2)::float8 AS score
    FROM ids JOIN terminology_entries t ON t.id = ids.id
      LEFT JOIN ex ON ex.id = t.id LEFT JOIN fts ON fts.id = t.id LEFT JOIN trg ON trg.id = t.id
      LEFT JOIN sem ON sem.id = t.id
    WHERE true ${where}
    ORDER BY score DESC, t.frequency DESC, t.term ASC
    LIMIT ${q.limit}`;
}

/** The nearest term embeddings above the similarity floor (pgvector's `<=>`, or the real[] fallback). */
function semanticCandidates(store: EmbeddingStore, embedding: number[]): SQL {
  if (!embedding.every(Number.isFinite)) throw new TypeError('embedding must be finite numbers');
  const body = embedding.join(',');
  const distance =
    store.mode === 'pgvector'
      ? sql`(e.embedding <=> ${`[${body}]`}::vector)`
      : sql`aiops_cosine_distance(e.embedding, ${`{${body}}`}::real[])`;
  return sql`SELECT n.id, (1 - n.d)::float8 AS s FROM (
      SELECT e.ref_id::uuid AS id, ${distance} AS d FROM embeddings e
      WHERE e.namespace = ${TERMINOLOGY_NAMESPACE} AND e.dimensions = ${embedding.length}
      ORDER BY d ASC LIMIT ${CANDIDATES}) n
    WHERE 1 - n.d >= ${SEMANTIC_MIN_SIMILARITY}`;
}
