import { describe, expect, it } from 'vitest';
import { schemaPatternProblems } from './linear-regexp.ts';
import { parseDefinition } from './workflow/definition.ts';
import { validateRunInput } from './workflow/input.ts';

/** The process's CPU time in ms: the work done, which a machine busy with other processes does not inflate. */
const cpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

describe('user regular expressions on the linear-time engine', () => {
  it('^(a+)+$ against 50,000 × "a" then "!" answers at once (backtracking took forever)', () => {
    const schema = { type: 'object', properties: { code: { type: 'string', pattern: '^(a+)+$' } } };
    const t = cpuMs();
    const issues = validateRunInput(schema, { code: `${'a'.repeat(50_000)}!` });
    expect(cpuMs() - t).toBeLessThan(1_000);
    expect(issues.map((i) => i.path)).toEqual(['input.code']);
    expect(validateRunInput(schema, { code: 'aaa' })).toEqual([]);
  });

  it('keeps each pattern apart (Ajv caches compiled patterns by their text)', () => {
    const schema = {
      type: 'object',
      properties: { a: { type: 'string', pattern: '^a+$' }, b: { type: 'string', pattern: '^b+$' } },
      patternProperties: { '^x-': { type: 'integer' } },
    };
    expect(validateRunInput(schema, { a: 'aa', b: 'bb', 'x-n': 1 })).toEqual([]);
    expect(
      validateRunInput(schema, { a: 'bb', b: 'aa', 'x-n': 'one' })
        .map((i) => i.path)
        .sort(),
    ).toEqual(['input.a', 'input.b', 'input.x-n']);
  });

  it('names every pattern RE2 cannot compile, with its path; data keywords are not patterns', () => {
    const problems = schemaPatternProblems(
      {
        properties: {
          a: { type: 'string', pattern: '(?<=x)y' },
          b: { items: { pattern: '(a)\\1' } },
          c: { const: { pattern: '(?=' } },
        },
        patternProperties: { '^(?!z)': {} },
      },
      'body.outputSchema',
    );
    expect(problems.map((p) => p.path).sort()).toEqual([
      'body.outputSchema.patternProperties',
      'body.outputSchema.properties.a.pattern',
      'body.outputSchema.properties.b.items.pattern',
    ]);
    expect(problems[0]?.message).toMatch(/not supported.*linear-time engine/);
  });

  it('a workflow whose input schema has such a pattern is invalid', () => {
    const r = parseDefinition({
      name: 'x',
      input: { type: 'object', properties: { p: { type: 'string', pattern: '^(?=a)' } } },
      nodes: [{ id: 'o', type: 'output', value: 1 }],
      connections: [],
    });
    expect(r.ok).toBe(false);
    expect(JSON.stringify(r)).toMatch(/"path":"input".*not supported/);
  });
});
