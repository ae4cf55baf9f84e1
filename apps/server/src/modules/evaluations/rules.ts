import type { EvaluationSample, RuleConfig } from '@aiops/contracts';
import { linearRegExp, UnsupportedPatternError, validateRunInput, validationFailed } from '@aiops/core';

/** The scored value as text: strings as they are, anything else as JSON. */
export const asText = (v: unknown) =>
  v === null || v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v);

/** A string output that is JSON is scored as the parsed value (numeric range, JSON Schema, equals). */
function asValue(v: unknown): unknown {
  if (typeof v !== 'string') return v;
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
}

/** `$.a.b[0]` over a value; undefined when a step is missing. */
export function readPath(value: unknown, path: string): unknown {
  let cur: unknown = value;
  for (const m of path.slice(1).matchAll(/\.([A-Za-z_][A-Za-z0-9_-]*)|\[(\d+)\]/g)) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = m[1] !== undefined ? (cur as Record<string, unknown>)[m[1]] : (cur as unknown[])[Number(m[2])];
  }
  return cur;
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/** Checks at save time what would fail at scoring time: the regex and the JSON Schema must compile. */
export function checkRule(rule: RuleConfig): void {
  try {
    if (rule.rule === 'regex') linearRegExp(rule.pattern, rule.flags);
    if (rule.rule === 'json_schema') validateRunInput(rule.schema, null);
  } catch (e) {
    const message =
      e instanceof UnsupportedPatternError
        ? e.message
        : `the JSON Schema does not compile: ${(e as Error).message}`;
    throw validationFailed(`Invalid evaluator: ${message}`, [
      { path: rule.rule === 'regex' ? 'body.config.pattern' : 'body.config.schema', message },
    ]);
  }
}

export interface RuleOutcome {
  holds: boolean;
  details: Record<string, unknown>;
  explanation: string;
}

/** The rules that hold or not without a model call (embedding similarity is scored in similarity.ts). */
export type LocalRule = Exclude<RuleConfig, { rule: 'embedding_similarity' }>;

/** Applies a rule to a sample; missing figures (no latency recorded, …) make the rule fail, saying so. */
export function applyRule(rule: LocalRule, sample: EvaluationSample): RuleOutcome {
  const out = sample.output;
  switch (rule.rule) {
    case 'contains':
    case 'not_contains': {
      const hay = rule.caseSensitive ? asText(out) : asText(out).toLowerCase();
      const needle = rule.caseSensitive ? rule.value : rule.value.toLowerCase();
      const found = hay.includes(needle);
      const holds = rule.rule === 'contains' ? found : !found;
      return {
        holds,
        details: { found },
        explanation: `the output ${found ? 'contains' : 'does not contain'} ${JSON.stringify(rule.value)}`,
      };
    }
    case 'regex': {
      const holds = linearRegExp(rule.pattern, rule.flags).test(asText(out));
      return {
        holds,
        details: { matched: holds },
        explanation: `the output ${holds ? 'matches' : 'does not match'} /${rule.pattern}/${rule.flags}`,
      };
    }
    case 'equals': {
      const holds = deepEqual(asValue(out), rule.value) || asText(out) === asText(rule.value);
      return {
        holds,
        details: {},
        explanation: holds
          ? 'the output equals the expected value'
          : 'the output differs from the expected value',
      };
    }
    case 'equals_expected': {
      if (sample.expected === undefined || sample.expected === null)
        return { holds: false, details: {}, explanation: 'there is no expected output to compare with' };
      const a = asText(out).trim();
      const b = asText(sample.expected).trim();
      const holds =
        deepEqual(asValue(out), asValue(sample.expected)) ||
        (rule.caseSensitive ? a === b : a.toLowerCase() === b.toLowerCase());
      return {
        holds,
        details: {},
        explanation: holds
          ? 'the output equals the expected output'
          : 'the output differs from the expected output',
      };
    }
    case 'json_schema': {
      // Validated on a copy: the schema's defaults are filled in, the scored output stays as it was.
      const issues = validateRunInput(rule.schema, structuredClone(asValue(out)));
      const holds = issues.length === 0;
      const errors = issues.slice(0, 20).map((e) => `${e.path.replace(/^input/, '$')} ${e.message}`);
      return {
        holds,
        details: { errors },
        explanation: holds
          ? 'the output is valid against the schema'
          : `the output is not valid: ${errors.join('; ')}`,
      };
    }
    case 'numeric_range': {
      const v = readPath(asValue(out), rule.path);
      const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : Number.NaN;
      if (!Number.isFinite(n))
        return { holds: false, details: { value: v ?? null }, explanation: `${rule.path} is not a number` };
      const holds = (rule.min === undefined || n >= rule.min) && (rule.max === undefined || n <= rule.max);
      return {
        holds,
        details: { value: n },
        explanation: `${rule.path} = ${n} is ${holds ? 'within' : 'outside'} [${rule.min ?? '-∞'}, ${rule.max ?? '∞'}]`,
      };
    }
    case 'latency_max':
      return figure('latency', sample.latencyMs, rule.maxMs, 'ms');
    case 'cost_max':
      return figure('cost', sample.costUsd, rule.maxUsd, 'USD');
    case 'tokens_max':
      return figure('tokens', sample.tokens, rule.maxTokens, 'tokens');
  }
}

function figure(name: string, value: number | undefined, max: number, unit: string): RuleOutcome {
  if (value === undefined)
    return { holds: false, details: { value: null, max }, explanation: `no ${name} was recorded` };
  const holds = value <= max;
  return {
    holds,
    details: { value, max },
    explanation: `${name} ${value} ${unit} is ${holds ? 'within' : 'over'} the limit of ${max} ${unit}`,
  };
}
