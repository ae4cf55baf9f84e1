import { RE2JS } from 're2js';

/**
 * Regular expressions written by users (JSON Schema `pattern` and `patternProperties` in run inputs,
 * structured outputs and tool inputs) run on RE2JS, a pure-JavaScript port of RE2: matching is linear in
 * the input, so `^(a+)+$` against "aaaa…!" cannot backtrack for minutes. Patterns RE2 cannot compile
 * (lookaround, backreferences) throw when the schema is compiled, that is when it is saved.
 */
export class UnsupportedPatternError extends Error {
  override name = 'UnsupportedPatternError';
}

function compileLinear(
  pattern: string,
  flags: string,
): { re: RE2JS; test: (s: string) => boolean; toString(): string } {
  let re: RE2JS;
  try {
    re = RE2JS.compile(
      pattern,
      (flags.includes('i') ? RE2JS.CASE_INSENSITIVE : 0) | (flags.includes('m') ? RE2JS.MULTILINE : 0),
    );
  } catch (e) {
    throw new UnsupportedPatternError(
      `pattern ${JSON.stringify(pattern)} is not supported: ${(e as Error).message} (patterns run on a linear-time engine, RE2: no lookaround, no backreferences)`,
    );
  }
  // Ajv keys its cache of compiled patterns by toString(): each pattern needs its own.
  return { re, test: (s: string) => re.test(s), toString: () => `/${pattern}/${flags}` };
}

/** Ajv's `code.regExp` option: `new Ajv({ code: { regExp: linearRegExp } })`. */
export const linearRegExp = Object.assign(compileLinear, {
  code: 'linearRegExp (RE2JS), not available in standalone code',
});

/** Keys whose values are data, not schemas: a `pattern` inside them is not a regular expression. */
const DATA_KEYWORDS = new Set(['const', 'enum', 'default', 'examples', 'example']);

/**
 * The `pattern`s and `patternProperties` of a JSON Schema that the linear engine cannot compile, each with
 * its path (e.g. `body.outputSchema.properties.code.pattern`). Iterative: a deep schema cannot overflow it.
 */
export function schemaPatternProblems(schema: unknown, path: string): { path: string; message: string }[] {
  const problems: { path: string; message: string }[] = [];
  const check = (pattern: string, at: string) => {
    try {
      compileLinear(pattern, 'u');
    } catch (e) {
      problems.push({ path: at, message: (e as Error).message });
    }
  };
  const stack: [unknown, string][] = [[schema, path]];
  while (stack.length > 0) {
    const [node, at] = stack.pop() as [unknown, string];
    if (node === null || typeof node !== 'object') continue;
    if (Array.isArray(node)) {
      for (const [i, item] of node.entries()) stack.push([item, `${at}.${i}`]);
      continue;
    }
    for (const [key, value] of Object.entries(node)) {
      if (DATA_KEYWORDS.has(key)) continue;
      if (key === 'pattern' && typeof value === 'string') check(value, `${at}.pattern`);
      if (key === 'patternProperties' && value && typeof value === 'object' && !Array.isArray(value)) {
        for (const p of Object.keys(value)) check(p, `${at}.patternProperties`);
      }
      stack.push([value, `${at}.${key}`]);
    }
  }
  return problems;
}

/**
 * JSONata's `RegexEngine` option (`jsonata(expr, { RegexEngine: LinearRegExpEngine })`): regex literals in
 * `json_transform` expressions (`$match`, `$replace`, `$split`, `$contains`) run on RE2JS as well.
 */
export class LinearRegExpEngine {
  lastIndex = 0;
  readonly #re: RE2JS;

  constructor(re: RegExp) {
    this.#re = compileLinear(re.source, re.flags).re;
  }

  exec(s: string): (RegExpExecArray & string[]) | null {
    const m = this.#re.matcher(s);
    if (this.lastIndex > s.length || !m.find(this.lastIndex)) {
      this.lastIndex = 0;
      return null;
    }
    const groups: string[] = [];
    for (let i = 0; i <= m.groupCount(); i++) groups.push(m.group(i) ?? '');
    const result = Object.assign(groups, { index: m.start(), input: s }) as unknown as RegExpExecArray;
    this.lastIndex = m.end();
    return result;
  }
}
