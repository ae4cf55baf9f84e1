import type { paths } from '@aiops/sdk';
import type { JsonContent } from '../../api/types.ts';

/** The evaluations API's shapes, from the SDK's types of its routes (generated from the OpenAPI document). */
export type Evaluator = JsonContent<paths['/api/v1/evaluators']['get']['responses'][200]>['data'][number];
export type EvaluationOutcome = JsonContent<paths['/api/v1/evaluators/{id}/test']['post']['responses'][200]>;
export type Attachment = JsonContent<
  paths['/api/v1/evaluators/{id}/attachments']['get']['responses'][200]
>['data'][number];
export type EvaluationResult = JsonContent<
  paths['/api/v1/runs/{id}/evaluations']['get']['responses'][200]
>['data'][number];

/** How a result was given, in words. */
export const sourceLabel = (r: EvaluationResult) =>
  r.source === 'manual'
    ? `by ${r.createdBy?.name ?? 'API key'}`
    : r.source === 'online'
      ? 'online'
      : 'on demand';

export const RULES = {
  contains: 'Contains',
  not_contains: 'Does not contain',
  regex: 'Matches regex',
  equals: 'Equals',
  equals_expected: 'Equals the expected output (datasets)',
  json_schema: 'Valid against JSON Schema',
  numeric_range: 'Number in range (JSON path)',
  latency_max: 'Latency at most (ms)',
  cost_max: 'Cost at most (USD)',
  tokens_max: 'Tokens at most',
  embedding_similarity: 'Similar to an expected answer (embeddings)',
} as const;
export type RuleName = keyof typeof RULES;

export const TEMPLATES = ['relevancy', 'helpfulness', 'clarity', 'faithfulness', 'toxicity'] as const;

/** A rule's config from the form's text fields; throws with a message on bad JSON or numbers. */
export function ruleConfig(
  rule: RuleName,
  f: { value: string; path: string; min: string; max: string; model?: string },
) {
  const num = (s: string, what: string) => {
    const n = Number(s);
    if (s.trim() === '' || !Number.isFinite(n)) throw new Error(`${what} must be a number`);
    return n;
  };
  switch (rule) {
    case 'contains':
    case 'not_contains':
      return { rule, value: f.value };
    case 'regex':
      return { rule, pattern: f.value };
    case 'equals': {
      let value: unknown = f.value;
      try {
        value = JSON.parse(f.value);
      } catch {
        value = f.value;
      }
      return { rule, value };
    }
    case 'equals_expected':
      return { rule };
    case 'json_schema': {
      let schema: unknown;
      try {
        schema = JSON.parse(f.value);
      } catch {
        throw new Error('The JSON Schema is not valid JSON');
      }
      if (typeof schema !== 'object' || schema === null || Array.isArray(schema))
        throw new Error('The JSON Schema must be a JSON object');
      return { rule, schema: schema as Record<string, unknown> };
    }
    case 'numeric_range':
      return {
        rule,
        path: f.path,
        ...(f.min.trim() ? { min: num(f.min, 'Minimum') } : {}),
        ...(f.max.trim() ? { max: num(f.max, 'Maximum') } : {}),
      };
    case 'latency_max':
      return { rule, maxMs: num(f.max, 'Maximum') };
    case 'cost_max':
      return { rule, maxUsd: num(f.max, 'Maximum') };
    case 'tokens_max':
      return { rule, maxTokens: num(f.max, 'Maximum') };
    case 'embedding_similarity':
      return { rule, expected: f.value, ...(f.model?.trim() ? { model: f.model.trim() } : {}) };
  }
}

/** One line describing an evaluator's definition. */
export function describe(e: Evaluator): string {
  const c = e.config as Record<string, unknown>;
  if (e.kind === 'judge') return `judge ${String(c.template ?? 'custom rubric')} on ${String(c.model)}`;
  const rule = RULES[c.rule as RuleName] ?? String(c.rule);
  const arg = c.value ?? c.pattern ?? c.path ?? c.maxMs ?? c.maxUsd ?? c.maxTokens ?? c.expected;
  return arg === undefined ? rule : `${rule} ${typeof arg === 'string' ? arg : JSON.stringify(arg)}`;
}
