/**
 * Glossary injection: the dictionary's terms that a prompt uses — by their words (inflections match: English
 * stemming) or, given the prompt's embedding, by meaning above a threshold — become a "Glossary" block for
 * the system prompt, most used first, within a token budget. Each term put in bumps its `frequency` and
 * `last_used_at` and its `terminology_usage` pattern.
 */
import { type EmbeddingStore, queryRows, type Tx, terminologyEntries } from '@aiops/db';
import { countTokens } from '@aiops/providers';
import { inArray, sql } from 'drizzle-orm';
import { observeTermUse } from '../learning/learn.ts';
import { TERMINOLOGY_NAMESPACE } from './embed.ts';

export const DEFAULT_GLOSSARY_TOKENS = 300;
/** Cosine similarity a term's embedding needs to the prompt's to count as "semantically close". */
export const GLOSSARY_SEMANTIC_THRESHOLD = 0.6;
const MAX_TERMS = 50;

export interface Glossary {
  block: string;
  ids: string[];
  tokens: number;
}

export async function glossaryFor(
  store: EmbeddingStore,
  tx: Tx,
  text: string,
  tokenBudget: number | undefined,
  source: 'conversation' | 'agent' | 'step',
  embedding?: number[],
  /** false: a preview; nothing is counted. */
  bump = true,
): Promise<Glossary> {
  const budget = tokenBudget ?? DEFAULT_GLOSSARY_TOKENS;
  const found = await queryRows<{ id: string; term: string; definition: string; how: string }>(
    tx,
    sql`WITH p AS (SELECT to_tsvector('english', ${text.slice(0, 100_000)}) AS v)
      SELECT t.id, t.term, t.definition, 'words' AS how FROM terminology_entries t, p
      WHERE numnode(plainto_tsquery('english', t.term)) > 0 AND p.v @@ plainto_tsquery('english', t.term)
      ORDER BY t.frequency DESC, length(t.term) DESC LIMIT ${MAX_TERMS}`,
  );
  if (embedding?.length) {
    const near = await store.search(tx, { namespace: TERMINOLOGY_NAMESPACE, embedding, limit: 10 });
    const ids = near.filter((n) => 1 - n.distance >= GLOSSARY_SEMANTIC_THRESHOLD).map((n) => n.refId);
    const missing = ids.filter((id) => !found.some((f) => f.id === id));
    if (missing.length) {
      const rows = await tx
        .select({
          id: terminologyEntries.id,
          term: terminologyEntries.term,
          definition: terminologyEntries.definition,
        })
        .from(terminologyEntries)
        .where(inArray(terminologyEntries.id, missing));
      for (const id of missing) {
        const r = rows.find((x) => x.id === id); // row-level security: private terms of others are absent
        if (r) found.push({ ...r, how: 'meaning' });
      }
    }
  }
  const header = 'Glossary (definitions of terms used here):';
  let tokens = countTokens(header);
  const lines: string[] = [];
  const used: { id: string; term: string }[] = [];
  for (const f of found) {
    const line = `- ${f.term}: ${f.definition.replace(/\s+/g, ' ').trim()}`;
    const t = countTokens(line) + 1;
    if (tokens + t > budget) continue;
    tokens += t;
    lines.push(line);
    used.push({ id: f.id, term: f.term });
  }
  if (!used.length) return { block: '', ids: [], tokens: 0 };
  if (!bump) return { block: `${header}\n${lines.join('\n')}`, ids: used.map((u) => u.id), tokens };
  await tx
    .update(terminologyEntries)
    .set({ frequency: sql`${terminologyEntries.frequency} + 1`, lastUsedAt: sql`now()` })
    .where(
      inArray(
        terminologyEntries.id,
        used.map((u) => u.id),
      ),
    );
  await observeTermUse(tx, used, source);
  return { block: `${header}\n${lines.join('\n')}`, ids: used.map((u) => u.id), tokens };
}
