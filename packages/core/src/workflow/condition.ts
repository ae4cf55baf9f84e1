import { parse } from '@marcbachmann/cel-js';

/**
 * Connection conditions are CEL expressions (Common Expression Language: non-Turing-complete,
 * sandboxed, no eval), e.g. `nodes.classify.output.category != 'spam'`. The context has `input`,
 * `variables`, `nodes.<id>.output` and `run`.
 */
export class ConditionError extends Error {
  override name = 'ConditionError';
}

export type CompiledCondition = (context: Record<string, unknown>) => boolean;

const cache = new Map<string, CompiledCondition>();

/** Compiles a condition; throws ConditionError with the parser's message and position. */
export function compileCondition(expression: string): CompiledCondition {
  const hit = cache.get(expression);
  if (hit) return hit;
  let evaluate: (context: Record<string, unknown>) => unknown;
  try {
    evaluate = parse(expression);
  } catch (e) {
    throw new ConditionError(firstLine(e));
  }
  const compiled: CompiledCondition = (context) => {
    let result: unknown;
    try {
      result = evaluate(context);
    } catch (e) {
      throw new ConditionError(`${expression}: ${firstLine(e)}`);
    }
    if (typeof result !== 'boolean') {
      throw new ConditionError(`${expression}: evaluated to ${typeof result}, not a boolean`);
    }
    return result;
  };
  if (cache.size > 10_000) cache.clear();
  cache.set(expression, compiled);
  return compiled;
}

/** The node ids a condition reads (`nodes.<id>`). */
export function conditionNodeRefs(expression: string): string[] {
  const withoutStrings = expression.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""');
  return [...new Set([...withoutStrings.matchAll(/\bnodes\.([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]!))];
}

function firstLine(e: unknown): string {
  return String((e as Error)?.message ?? e)
    .split('\n')[0]!
    .trim();
}
