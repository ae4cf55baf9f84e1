import { describe, expect, it } from 'vitest';
import {
  CONDITION_BUDGET_MS,
  ConditionError,
  compileCondition,
  conditionNodeRefs,
  MAX_COMPREHENSION_NESTING,
} from './condition.ts';

/** The process's CPU time in ms: the work done, which a machine busy with other processes does not inflate. */
const cpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

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

  it('refuses comprehensions nested deeper than the limit when compiled (six nested .all() ran a million steps)', () => {
    const list = '[1,2,3,4,5,6,7,8,9,10]';
    let expr = 'a+b+c+d+e+f>=0';
    for (const v of ['f', 'e', 'd', 'c', 'b', 'a']) expr = `${list}.all(${v},${expr})`;
    const t = cpuMs();
    expect(() => compileCondition(expr)).toThrow(/nests 6 comprehensions/);
    expect(cpuMs() - t).toBeLessThan(50);
    // Nested up to the limit, and chained (sequential) comprehensions, are fine.
    let allowed = 'a + b >= 0';
    for (const v of ['b', 'a'].slice(0, MAX_COMPREHENSION_NESTING)) allowed = `${list}.all(${v}, ${allowed})`;
    expect(compileCondition(allowed)({})).toBe(true);
    expect(compileCondition(`${list}.map(x, x * 2).filter(y, y > 4).map(z, z).exists(w, w == 20)`)({})).toBe(
      true,
    );
    expect(() => compileCondition(`[${'1,'.repeat(150)}1].size() > 0`)).toThrow(ConditionError);
  });

  it('stops a costly evaluation at its deadline', () => {
    const big = Array.from({ length: 5_000 }, (_, i) => i);
    const condition = compileCondition('input.xs.all(a, input.xs.all(b, a + b >= 0))');
    const t = cpuMs();
    expect(() => condition({ input: { xs: big } })).toThrow(/stopped after \d+ ms/);
    expect(cpuMs() - t).toBeLessThan(CONDITION_BUDGET_MS + 100);
    // The same condition on data it can afford still answers.
    expect(condition({ input: { xs: [1, 2, 3] } })).toBe(true);
  });

  it('stops a backtracking regular expression at its deadline', () => {
    const condition = compileCondition("input.s.matches('^(a+)+$')");
    const t = cpuMs();
    expect(() => condition({ input: { s: `${'a'.repeat(40)}!` } })).toThrow(/stopped after/);
    expect(cpuMs() - t).toBeLessThan(CONDITION_BUDGET_MS + 100);
    expect(condition({ input: { s: 'aaa' } })).toBe(true);
  });
});
