import { ruleConfigSchema } from '@aiops/contracts';
import { describe, expect, it } from 'vitest';
import { judgePrompt, parseJudgeAnswer } from './judge.ts';
import { applyRule, checkRule, type LocalRule, readPath } from './rules.ts';

const rule = (r: Record<string, unknown>) => ruleConfigSchema.parse(r) as LocalRule;
const holds = (r: Record<string, unknown>, sample: Record<string, unknown>) =>
  applyRule(rule(r), { output: undefined, ...sample }).holds;

describe('rule evaluators', () => {
  it('contains / not contains, case-insensitive by default', () => {
    expect(holds({ rule: 'contains', value: 'Refund' }, { output: 'your refund is on its way' })).toBe(true);
    expect(holds({ rule: 'contains', value: 'Refund', caseSensitive: true }, { output: 'refund' })).toBe(
      false,
    );
    expect(holds({ rule: 'not_contains', value: 'sorry' }, { output: 'Done.' })).toBe(true);
    expect(holds({ rule: 'not_contains', value: 'sorry' }, { output: { text: 'Sorry!' } })).toBe(false);
  });

  it('regex on the linear-time engine; unsupported patterns are refused at save', () => {
    expect(holds({ rule: 'regex', pattern: '^T-\\d{4}$' }, { output: 'T-1234' })).toBe(true);
    expect(holds({ rule: 'regex', pattern: '^t-\\d+$', flags: 'i' }, { output: 'T-12x' })).toBe(false);
    // a catastrophic pattern for a backtracking engine finishes at once
    const started = Date.now();
    expect(holds({ rule: 'regex', pattern: '^(a+)+$' }, { output: `${'a'.repeat(50_000)}!` })).toBe(false);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(() => checkRule(rule({ rule: 'regex', pattern: '(?=x)y' }))).toThrow(/not supported/);
  });

  it('equals_expected compares the output with the sample expected output', () => {
    const r = { rule: 'equals_expected' };
    expect(holds(r, { output: 'Refund for x', expected: 'Refund for x' })).toBe(true);
    expect(holds(r, { output: '{"a":1,"b":[2]}', expected: { b: [2], a: 1 } })).toBe(true);
    expect(holds(r, { output: 'refund for x', expected: 'Refund for x' })).toBe(false);
    expect(holds({ ...r, caseSensitive: false }, { output: 'refund for x', expected: 'Refund for x' })).toBe(
      true,
    );
    expect(holds(r, { output: 'Sorry about x', expected: 'Refund for x' })).toBe(false);
    const none = applyRule(rule(r), { output: 'x' });
    expect(none).toEqual({
      holds: false,
      details: {},
      explanation: 'there is no expected output to compare with',
    });
  });

  it('equals compares values, JSON strings included', () => {
    expect(holds({ rule: 'equals', value: { a: 1, b: [2] } }, { output: '{"b":[2],"a":1}' })).toBe(true);
    expect(holds({ rule: 'equals', value: 'yes' }, { output: 'yes' })).toBe(true);
    expect(holds({ rule: 'equals', value: { a: 1 } }, { output: { a: 2 } })).toBe(false);
  });

  it('JSON Schema valid, with the failing paths in details', () => {
    const schema = {
      type: 'object',
      required: ['label'],
      properties: { label: { enum: ['bug', 'question'] } },
    };
    expect(holds({ rule: 'json_schema', schema }, { output: { label: 'bug' } })).toBe(true);
    const r = applyRule(rule({ rule: 'json_schema', schema }), { output: { label: 'spam' } });
    expect(r.holds).toBe(false);
    expect(JSON.stringify(r.details)).toContain('$.label');
    expect(() => checkRule(rule({ rule: 'json_schema', schema: { type: 'nope' } }))).toThrow(
      /does not compile/,
    );
  });

  it('numeric range on a JSON path', () => {
    expect(readPath({ a: { b: [1, { c: 7 }] } }, '$.a.b[1].c')).toBe(7);
    expect(
      holds({ rule: 'numeric_range', path: '$.confidence', min: 0.8 }, { output: { confidence: 0.93 } }),
    ).toBe(true);
    expect(
      holds({ rule: 'numeric_range', path: '$.confidence', min: 0.8 }, { output: { confidence: 0.5 } }),
    ).toBe(false);
    expect(holds({ rule: 'numeric_range', path: '$.x', max: 3 }, { output: { y: 1 } })).toBe(false);
    expect(ruleConfigSchema.safeParse({ rule: 'numeric_range', path: '$.x' }).success).toBe(false);
    expect(ruleConfigSchema.safeParse({ rule: 'numeric_range', path: 'x.y', min: 1 }).success).toBe(false);
  });

  it('latency, cost and tokens limits; a missing figure fails', () => {
    expect(holds({ rule: 'latency_max', maxMs: 1000 }, { latencyMs: 800 })).toBe(true);
    expect(holds({ rule: 'latency_max', maxMs: 1000 }, { latencyMs: 1200 })).toBe(false);
    expect(holds({ rule: 'latency_max', maxMs: 1000 }, {})).toBe(false);
    expect(holds({ rule: 'cost_max', maxUsd: 0.01 }, { costUsd: 0.002 })).toBe(true);
    expect(holds({ rule: 'cost_max', maxUsd: 0.01 }, { costUsd: 0.02 })).toBe(false);
    expect(holds({ rule: 'tokens_max', maxTokens: 500 }, { tokens: 120 })).toBe(true);
    expect(holds({ rule: 'tokens_max', maxTokens: 500 }, { tokens: 501 })).toBe(false);
  });
});

describe('judge answers', () => {
  it('parses a score and explanation from JSON, also inside prose', () => {
    expect(parseJudgeAnswer('{"score": 85, "explanation": "good"}', undefined)).toEqual({
      score: 85,
      explanation: 'good',
    });
    expect(parseJudgeAnswer('Here: {"score":"40","explanation":"meh"} done', undefined).score).toBe(40);
  });

  it('refuses malformed answers instead of inventing a score', () => {
    for (const bad of ['I think it is fine', '{"score": 140}', '{"explanation": "x"}', '{score: 5'])
      expect(() => parseJudgeAnswer(bad, undefined)).toThrow(/did not answer with a score/);
  });

  it('renders the rubric once (a value holding {{output}} is not expanded)', () => {
    const p = judgePrompt(
      { model: 'simulator:json', rubric: 'Q: {{input}} A: {{ output }}' },
      { input: '{{output}}', output: 'yes' },
    );
    expect(p).toBe('Q: {{output}} A: yes');
  });
});
