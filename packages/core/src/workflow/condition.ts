import vm from 'node:vm';
import { Environment } from '@marcbachmann/cel-js';

/**
 * Connection conditions are CEL expressions (Common Expression Language: non-Turing-complete,
 * sandboxed, no eval), e.g. `nodes.classify.output.category != 'spam'`. The context has `input`,
 * `variables`, `nodes.<id>.output` and `run`.
 *
 * Bounded cost (the engine evaluates conditions on the event loop the API shares):
 * - at save, the parser's structural limits (CONDITION_LIMITS) and at most MAX_COMPREHENSION_NESTING
 *   comprehensions (`all`, `exists`, `exists_one`, `map`, `filter`) nested in one another: six nested
 *   `.all()` over ten-element lists were a million steps;
 * - at run time, an expression with a comprehension or a regular expression (`matches`, on JavaScript's
 *   backtracking engine) is evaluated under a CONDITION_BUDGET_MS deadline (node:vm's watchdog stops it;
 *   the condition then fails with a ConditionError). Other expressions are linear in their data and run
 *   directly (the deadline costs ~0.14 ms per evaluation).
 */
export const CONDITION_LIMITS = {
  maxAstNodes: 500,
  maxDepth: 32,
  maxListElements: 100,
  maxMapEntries: 100,
  maxCallArguments: 8,
};
export const MAX_COMPREHENSION_NESTING = 2;
export const CONDITION_BUDGET_MS = 50;

const env = new Environment({ unlistedVariablesAreDyn: true, limits: CONDITION_LIMITS });
const COMPREHENSIONS = new Set(['all', 'exists', 'exists_one', 'map', 'filter']);

export class ConditionError extends Error {
  override name = 'ConditionError';
}

export type CompiledCondition = (context: Record<string, unknown>) => boolean;

const cache = new Map<string, CompiledCondition>();

/** Compiles a condition; throws ConditionError with the parser's message and position. */
export function compileCondition(expression: string): CompiledCondition {
  const hit = cache.get(expression);
  if (hit) return hit;
  let evaluate: ((context: Record<string, unknown>) => unknown) & { ast: unknown };
  try {
    evaluate = env.parse(expression);
  } catch (e) {
    throw new ConditionError(firstLine(e));
  }
  const shape = costShape(evaluate.ast);
  if (shape.nesting > MAX_COMPREHENSION_NESTING) {
    throw new ConditionError(
      `nests ${shape.nesting} comprehensions (all, exists, exists_one, map, filter) in one another; at most ${MAX_COMPREHENSION_NESTING} are allowed`,
    );
  }
  const costly = shape.nesting > 0 || shape.regex;
  const compiled: CompiledCondition = (context) => {
    let result: unknown;
    try {
      result = costly ? withDeadline(() => evaluate(context)) : evaluate(context);
    } catch (e) {
      if ((e as { code?: string }).code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') {
        cache.delete(expression);
        throw new ConditionError(`${expression}: stopped after ${CONDITION_BUDGET_MS} ms (too costly)`);
      }
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

interface AstNode {
  op: string;
  args: unknown;
}

const isNode = (v: unknown): v is AstNode => typeof v === 'object' && v !== null && 'op' in v && 'args' in v;

/** How deeply comprehensions nest in the parsed expression, and whether it uses regular expressions. */
function costShape(root: unknown): { nesting: number; regex: boolean } {
  let regex = false;
  const depthOf = (node: unknown): number => {
    if (Array.isArray(node)) return Math.max(0, ...node.map(depthOf));
    if (!isNode(node)) return 0;
    const args = Array.isArray(node.args) ? node.args : [node.args];
    const name = (node.op === 'rcall' || node.op === 'call') && typeof args[0] === 'string' ? args[0] : '';
    if (name === 'matches') regex = true;
    if (node.op === 'rcall' && COMPREHENSIONS.has(name)) {
      // The range is evaluated once (a chain is sequential); the body once per element (nested).
      return Math.max(depthOf(args[1]), 1 + depthOf(args[2]));
    }
    return Math.max(0, ...args.map(depthOf));
  };
  // The parser bounds the tree's depth (CONDITION_LIMITS.maxDepth), so this recursion is bounded too.
  const nesting = depthOf(root);
  return { nesting, regex };
}

const sandbox = vm.createContext({ job: undefined });
const runJob = new vm.Script('job()');

/** Runs `fn` and stops it (throwing ERR_SCRIPT_EXECUTION_TIMEOUT) after CONDITION_BUDGET_MS. */
function withDeadline<T>(fn: () => T): T {
  sandbox.job = fn;
  try {
    return runJob.runInContext(sandbox, { timeout: CONDITION_BUDGET_MS }) as T;
  } finally {
    sandbox.job = undefined;
  }
}
