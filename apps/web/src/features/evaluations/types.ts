/** The evaluations API's shapes as the studio reads them (packages/contracts/src/evaluations.ts). */
export interface Evaluator {
  id: string;
  name: string;
  description: string | null;
  kind: 'rule' | 'judge';
  config: Record<string, unknown>;
  threshold: number;
  version: number;
  createdAt: string;
  updatedAt: string;
}

export interface EvaluationOutcome {
  score: number;
  passed: boolean;
  threshold: number;
  details: Record<string, unknown>;
  explanation: string | null;
  costUsd: number;
}

export interface EvaluationResult extends EvaluationOutcome {
  id: string;
  runId: string;
  agentExecutionId: string | null;
  evaluatorId: string | null;
  evaluatorName: string;
  evaluatorVersion: number;
  kind: 'rule' | 'judge';
  source: 'online' | 'on_demand';
  createdAt: string;
}

export const RULES = {
  contains: 'Contains',
  not_contains: 'Does not contain',
  regex: 'Matches regex',
  equals: 'Equals',
  json_schema: 'Valid against JSON Schema',
  numeric_range: 'Number in range (JSON path)',
  latency_max: 'Latency at most (ms)',
  cost_max: 'Cost at most (USD)',
  tokens_max: 'Tokens at most',
} as const;
export type RuleName = keyof typeof RULES;

export const TEMPLATES = ['relevancy', 'helpfulness', 'clarity', 'faithfulness', 'toxicity'] as const;

/** A rule's config from the form's text fields; throws with a message on bad JSON or numbers. */
export function ruleConfig(rule: RuleName, f: { value: string; path: string; min: string; max: string }) {
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
    case 'json_schema': {
      try {
        return { rule, schema: JSON.parse(f.value) as unknown };
      } catch {
        throw new Error('The JSON Schema is not valid JSON');
      }
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
  }
}

/** One line describing an evaluator's definition. */
export function describe(e: Evaluator): string {
  const c = e.config as Record<string, unknown>;
  if (e.kind === 'judge') return `judge ${String(c.template ?? 'custom rubric')} on ${String(c.model)}`;
  const rule = RULES[c.rule as RuleName] ?? String(c.rule);
  const arg = c.value ?? c.pattern ?? c.path ?? c.maxMs ?? c.maxUsd ?? c.maxTokens;
  return arg === undefined ? rule : `${rule} ${typeof arg === 'string' ? arg : JSON.stringify(arg)}`;
}
