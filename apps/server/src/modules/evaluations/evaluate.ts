import { type EvaluationSample, judgeConfigSchema, ruleConfigSchema } from '@aiops/contracts';
import type { ModelPort } from '@aiops/core';
import { runJudge } from './judge.ts';
import { applyRule } from './rules.ts';
import { applySimilarity, type EvaluationEmbedder } from './similarity.ts';

/** One version of an evaluator, as stored (evaluators / evaluator_versions). */
export interface EvaluatorDefinition {
  evaluatorId: string;
  name: string;
  version: number;
  kind: 'rule' | 'judge';
  config: Record<string, unknown>;
  threshold: number;
}

export interface EvaluationOutcome {
  score: number;
  passed: boolean;
  threshold: number;
  details: Record<string, unknown>;
  explanation: string | null;
  /** Exact decimal (USD) spent on the judge call; '0' for rules. */
  costUsd: string;
}

/** What scoring needs: the model port (judges) and the embedding path (embedding similarity). */
export interface EvaluationContext {
  model: ModelPort;
  embed: EvaluationEmbedder;
  organizationId: string;
  idempotencyKey: string;
  signal?: AbortSignal;
}

/** What scoring calls: the model port (judges) and the embedding path (embedding similarity). */
export type ScoringPorts = Pick<EvaluationContext, 'model' | 'embed'>;

/**
 * Scores one sample with one evaluator version: a rule scores 100 when it holds and 0 when not; embedding
 * similarity scores the cosine similarity × 100; a judge asks the model for 0–100. Passed when score ≥
 * threshold. A judge's or embedder's errors (budget, provider, malformed answer) are thrown as the typed
 * errors they are: no score is invented.
 */
export async function evaluateSample(
  def: EvaluatorDefinition,
  sample: EvaluationSample,
  ctx: EvaluationContext,
): Promise<EvaluationOutcome> {
  if (def.kind === 'rule') {
    const rule = ruleConfigSchema.parse(def.config);
    if (rule.rule === 'embedding_similarity') {
      const r = await applySimilarity(rule, sample, ctx.embed, ctx);
      return {
        score: r.score,
        passed: r.score >= def.threshold,
        threshold: def.threshold,
        details: { rule: rule.rule, ...r.details },
        explanation: r.explanation,
        costUsd: '0',
      };
    }
    const r = applyRule(rule, sample);
    const score = r.holds ? 100 : 0;
    return {
      score,
      passed: score >= def.threshold,
      threshold: def.threshold,
      details: { rule: rule.rule, ...r.details },
      explanation: r.explanation,
      costUsd: '0',
    };
  }
  const config = judgeConfigSchema.parse(def.config);
  const j = await runJudge(ctx.model, config, sample, ctx);
  return {
    score: j.score,
    passed: j.score >= def.threshold,
    threshold: def.threshold,
    details: { template: config.template ?? null, ...j.details },
    explanation: j.explanation,
    costUsd: j.costUsd,
  };
}
