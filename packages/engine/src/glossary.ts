/**
 * Glossary injection: the dictionary's terms that a prompt uses — by their words (inflections match: English
 * stemming) or, given the prompt's embedding, by meaning above a threshold — become a "Glossary" block for
 * the system prompt, most used first, within a token budget. Each term put in bumps its `frequency` and
 * `last_used_at` and its `terminology_usage` learning pattern. Row-level security decides which terms a
 * caller gets: a user's own private ones and the organization's public ones; a workflow step (no user)
 * gets the public ones.
 */
import { type EmbeddingStore, queryRows, type Tx, terminologyEntries } from '@aiops/db';
import { countTokens } from '@aiops/providers';
import { inArray, sql } from 'drizzle-orm';

export const DEFAULT_GLOSSARY_TOKENS = 300;
/** Cosine similarity a term's embedding needs to the prompt's to count as "semantically close". */
export const GLOSSARY_SEMANTIC_THRESHOLD = 0.6;
const MAX_TERMS = 50;

export interface Glossary {
  block: string;
  ids: string[];
  tokens: number;
}

export type GlossarySource = 'conversation' | 'agent' | 'step';

export async function glossaryFor(
  store: EmbeddingStore,
  tx: Tx,
  text: string,
  tokenBudget: number | undefined,
  source: GlossarySource,
  embedding?: number[],
  /** false: a preview; nothing is counted. */
  bump = true,
): Promise<Glossary> {
  const budget = tokenBudget ?? DEFAULT_GLOSSARY_TOKENS;
  const found = await queryRows<{ id: string; term: string; definition: string }>(
    tx,
    sql`WITH p AS (SELECT to_tsvector('english', ${text.slice(0, 100_000)}) AS v)
      SELECT t.id, t.term, t.definition FROM terminology_entries t, p
      WHERE numnode(plainto_tsquery('english', t.term)) > 0 AND p.v @@ plainto_tsquery('english', t.term)
      ORDER BY t.frequency DESC, length(t.term) DESC LIMIT ${MAX_TERMS}`,
  );
  if (embedding?.length) {
    const near = await store.search(tx, { namespace: 'terminology', embedding, limit: 10 });
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
        const r = rows.find((x) => x.id === id); // row-level security: others' private terms are absent
        if (r) found.push(r);
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
  const out = { block: `${header}\n${lines.join('\n')}`, ids: used.map((u) => u.id), tokens };
  if (!bump) return out;
  await tx
    .update(terminologyEntries)
    .set({ frequency: sql`${terminologyEntries.frequency} + 1`, lastUsedAt: sql`now()` })
    .where(
      inArray(
        terminologyEntries.id,
        used.map((u) => u.id),
      ),
    );
  await recordTermUse(tx, used, source);
  return out;
}

/** One more use of each term in its `terminology_usage` pattern (one statement). */
async function recordTermUse(tx: Tx, terms: { id: string; term: string }[], source: GlossarySource) {
  const values = sql.join(
    terms.map((t) => sql`(${t.id}, ${t.term})`),
    sql`, `,
  );
  await tx.execute(sql`
    INSERT INTO learning_patterns AS lp (organization_id, pattern_type, key, data, confidence, occurrences)
    SELECT nullif(current_setting('app.org_id', true), '')::uuid, 'terminology_usage', v.id,
      jsonb_build_object('termId', v.id, 'term', v.term, 'uses', 1, 'bySource', jsonb_build_object(${source}::text, 1)),
      round(1.0 / 6, 4), 1
    FROM (VALUES ${values}) AS v(id, term)
    ON CONFLICT (organization_id, user_id, pattern_type, key) DO UPDATE SET
      occurrences = lp.occurrences + 1,
      confidence = round((lp.occurrences + 1)::numeric / (lp.occurrences + 6), 4),
      data = lp.data || jsonb_build_object('term', excluded.data->'term', 'uses', lp.occurrences + 1,
        'bySource', coalesce(lp.data->'bySource', '{}'::jsonb)
          || jsonb_build_object(${source}::text, coalesce((lp.data->'bySource'->>${source}::text)::int, 0) + 1)),
      last_seen_at = now(), updated_at = now()`);
}
