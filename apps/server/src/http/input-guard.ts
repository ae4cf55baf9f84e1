import { validationFailed } from '@aiops/core';
import type { FastifyInstance } from 'fastify';

/**
 * Bad input is refused before any route code sees it, for every route (a global preValidation hook, so
 * after authentication and before the route's schema):
 * - JSON nested deeper than MAX_JSON_DEPTH (schema validation, templating and the engine recurse over
 *   values; 5,000 levels overflowed the stack),
 * - text PostgreSQL cannot store: NUL (U+0000, refused by text and jsonb) and unpaired UTF-16 surrogates
 *   (not Unicode text at all), in any string or object key of the body, the query or the path parameters.
 * The walk is iterative, so the check itself cannot overflow the stack.
 */
export const MAX_JSON_DEPTH = 64;

const NUL = '\u0000';
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Why `s` cannot be stored as text, or undefined when it can. */
export function unstorableText(s: string): string | undefined {
  if (s.includes(NUL)) return 'contains a NUL character (\\u0000), which cannot be stored as text';
  if (LONE_SURROGATE.test(s))
    return 'contains an unpaired UTF-16 surrogate (such as \\ud800): not valid Unicode';
  return undefined;
}

export interface InputProblem {
  path: string;
  message: string;
}

/** The first problem in `root` (read at `where`: body, query or path), or undefined. */
export function findInputProblem(root: unknown, where: string): InputProblem | undefined {
  const stack: [unknown, string, number][] = [[root, where, 0]];
  while (stack.length > 0) {
    const [value, path, depth] = stack.pop() as [unknown, string, number];
    if (typeof value === 'string') {
      const why = unstorableText(value);
      if (why) return { path, message: why };
      continue;
    }
    if (value === null || typeof value !== 'object' || ArrayBuffer.isView(value)) continue;
    if (depth >= MAX_JSON_DEPTH) {
      return { path, message: `nests deeper than ${MAX_JSON_DEPTH} levels of objects and arrays` };
    }
    if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push([value[i], `${path}.${i}`, depth + 1]);
      continue;
    }
    const entries = Object.entries(value);
    for (let i = entries.length - 1; i >= 0; i--) {
      const [key, child] = entries[i] as [string, unknown];
      const why = unstorableText(key);
      if (why) return { path, message: `has a key that ${why}` };
      stack.push([child, `${path}.${key}`, depth + 1]);
    }
  }
  return undefined;
}

export function registerInputGuard(app: FastifyInstance): void {
  app.addHook('preValidation', async (request) => {
    const problem =
      findInputProblem(request.params, 'path') ??
      findInputProblem(request.query, 'query') ??
      findInputProblem(request.body, 'body');
    if (problem) {
      throw validationFailed(`Invalid request: ${problem.path}: ${problem.message}`, [problem]);
    }
  });
}
