/**
 * Nearest terms by embedding, computed in this process: the organization's term embeddings are loaded once
 * into a Float32Array (normalized) and searched by brute force (10,000 × 256 dimensions ≈ 3 ms), instead of
 * a sequential scan of cosine distances in SQL (the real[] fallback costs ~0.1 ms per row without pgvector).
 *
 * Freshness: every search first reads the dictionary's version (`aiops_term_version()`: count and newest
 * `updated_at` of the organization's entries); a change anywhere — this process or another — reloads it. Rows
 * the caller may not see are dropped later by the search's join with `terminology_entries` (row-level
 * security), so the cache may hold every embedding of the organization.
 */
import { queryRows, type Tx } from '@aiops/db';
import { sql } from 'drizzle-orm';
import { TERMINOLOGY_NAMESPACE } from './embed.ts';

interface OrgVectors {
  version: string;
  dims: number;
  ids: string[];
  matrix: Float32Array;
}

const MAX_ORGS = 32;

export class TermVectorCache {
  private readonly orgs = new Map<string, OrgVectors>();

  async nearest(
    tx: Tx,
    organizationId: string,
    embedding: number[],
    k: number,
    minSimilarity: number,
  ): Promise<{ id: string; s: number }[]> {
    const dims = embedding.length;
    const [v] = await queryRows<{ v: string }>(tx, sql`SELECT aiops_term_version() AS v`);
    const version = `${dims}:${v?.v ?? ''}`;
    let org = this.orgs.get(organizationId);
    if (!org || org.version !== version) {
      org = await this.load(tx, dims, version);
      this.orgs.delete(organizationId);
      if (this.orgs.size >= MAX_ORGS) this.orgs.delete(this.orgs.keys().next().value!);
      this.orgs.set(organizationId, org);
    }
    const q = normalize(embedding);
    const best: { id: string; s: number }[] = [];
    const { matrix, ids } = org;
    for (let r = 0; r < ids.length; r++) {
      let dot = 0;
      const base = r * dims;
      for (let d = 0; d < dims; d++) dot += matrix[base + d]! * q[d]!;
      if (dot < minSimilarity) continue;
      if (best.length < k || dot > best[best.length - 1]!.s) {
        best.push({ id: ids[r]!, s: dot });
        best.sort((a, b) => b.s - a.s);
        if (best.length > k) best.pop();
      }
    }
    return best;
  }

  private async load(tx: Tx, dims: number, version: string): Promise<OrgVectors> {
    const rows = await queryRows<{ ref_id: string; v: string }>(
      tx,
      sql`SELECT ref_id, embedding::text AS v FROM embeddings
          WHERE namespace = ${TERMINOLOGY_NAMESPACE} AND dimensions = ${dims}`,
    );
    const matrix = new Float32Array(rows.length * dims);
    const ids: string[] = [];
    for (const [r, row] of rows.entries()) {
      const values = row.v.slice(1, -1).split(',').map(Number);
      const norm = Math.hypot(...values) || 1;
      for (let d = 0; d < dims; d++) matrix[r * dims + d] = (values[d] ?? 0) / norm;
      ids.push(row.ref_id);
    }
    return { version, dims, ids, matrix };
  }
}

function normalize(v: number[]): Float64Array {
  const norm = Math.hypot(...v) || 1;
  return Float64Array.from(v, (x) => x / norm);
}
