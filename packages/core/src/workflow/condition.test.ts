import { describe, expect, it } from 'vitest';
import { ConditionError, compileCondition, conditionNodeRefs } from './condition.ts';

const ctx = { input: { n: 2 }, nodes: { c: { output: { category: 'spam', score: 0.7, tags: ['x'] } } } };

describe('conditions (CEL)', () => {
  it('evaluates comparisons, membership and boolean logic', () => {
    expect(compileCondition("nodes.c.output.category != 'spam'")(ctx)).toBe(false);
    expect(compileCondition('nodes.c.output.score > 0.5 && input.n >= 2')(ctx)).toBe(true);
    expect(compileCondition("'x' in nodes.c.output.tags || false")(ctx)).toBe(true);
    expect(compileCondition('has(nodes.c.output.missing)')(ctx)).toBe(false);
  });

  it('reports syntax errors, runtime errors and non-boolean results', () => {
    expect(() => compileCondition('nodes.c.output ==')).toThrow(ConditionError);
    expect(() => compileCondition('nodes.c.output.nope == 1')(ctx)).toThrow(/No such key/);
    expect(() => compileCondition('nodes.c.output.category')(ctx)).toThrow(/not a boolean/);
  });

  it('has no access to the host: no eval, no globals', () => {
    expect(() => compileCondition('process.exit(1)')({})).toThrow(ConditionError);
    expect(() => compileCondition("constructor.constructor('return 1')()")({})).toThrow(ConditionError);
  });

  it('lists node references outside string literals', () => {
    expect(conditionNodeRefs("nodes.a.output == 'nodes.zz' && nodes.b.output.x")).toEqual(['a', 'b']);
  });
});
