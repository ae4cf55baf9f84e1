import type { EvaluationSample, RuleConfig } from '@aiops/contracts';
import { AppError, type EmbeddingPort } from '@aiops/core';
import type { Database } from '@aiops/db';
import { embeddingModelOf } from '../terminology/embed.ts';
import { asText } from './rules.ts';

type SimilarityRule = Extract<RuleConfig, { rule: 'embedding_similarity' }>;

/** Longest text embedded for a comparison (characters): well inside embedding models' input limits. */
const MAX_TEXT = 8_000;

/**
 * Embeds texts for an evaluation, through the same embedding port as semantic memory and terminology: with
 * the given model and integration, else the organization's embedding model (`settings.embeddingModel`,
 * default `simulator:embed`).
 */
export type EvaluationEmbedder = (
  organizationId: string,
  texts: string[],
  options: { model?: string | undefined; integrationId?: string | null | undefined; signal?: AbortSignal },
) => Promise<{ embeddings: number[][]; tokens: number; model: string }>;

export function makeEvaluationEmbedder(db: Database, port: EmbeddingPort): EvaluationEmbedder {
  return async (organizationId, texts, options) => {
    const model = options.model ?? (await db.withTenant(organizationId, embeddingModelOf));
    const res = await port.embed({
      model,
      texts,
      organizationId,
      ...(options.integrationId ? { integrationId: options.integrationId } : {}),
      signal: options.signal ?? AbortSignal.timeout(60_000),
    });
    return { embeddings: res.embeddings, tokens: res.tokens, model };
  };
}

/** Cosine similarity of two vectors; 0 when either is all zeros or their lengths differ. */
export function cosine(a: number[], b: number[]): number {
  if (a.length !== b.length || a.length === 0) return 0;
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

/**
 * Scores the output's similarity to the expected answer: cosine of their embeddings × 100, rounded to two
 * decimals, negative similarity scored 0. Provider failures are thrown as the typed errors they are.
 */
export async function applySimilarity(
  rule: SimilarityRule,
  sample: EvaluationSample,
  embed: EvaluationEmbedder,
  ctx: { organizationId: string; signal?: AbortSignal | undefined },
): Promise<{ score: number; details: Record<string, unknown>; explanation: string }> {
  const output = asText(sample.output).slice(0, MAX_TEXT);
  const res = await embed(ctx.organizationId, [output, rule.expected.slice(0, MAX_TEXT)], {
    model: rule.model,
    integrationId: rule.integrationId,
    ...(ctx.signal ? { signal: ctx.signal } : {}),
  });
  const [a, b] = res.embeddings;
  if (!a || !b || res.embeddings.length !== 2 || a.length !== b.length || a.length === 0)
    throw new AppError(
      502,
      'embedding_output_invalid',
      `The embedding model ${res.model} did not answer two vectors of the same size`,
      { retryable: false },
    );
  const similarity = cosine(a, b);
  const score = Math.max(0, Math.min(100, Math.round(similarity * 10_000) / 100));
  return {
    score,
    details: {
      similarity: Math.round(similarity * 1e6) / 1e6,
      embeddingModel: res.model,
      embeddingTokens: res.tokens,
    },
    explanation: `the output is ${score}% similar to the expected answer (cosine similarity of ${res.model} embeddings)`,
  };
}
