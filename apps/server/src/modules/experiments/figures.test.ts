import { describe, expect, it } from 'vitest';
import { aggregate, type ItemScore, median, shortfalls } from './figures.ts';

const ev = [
  { evaluatorId: 'a', name: 'A' },
  { evaluatorId: 'b', name: 'B' },
];
const s = (evaluatorId: string, score: number | null, passed: boolean): ItemScore => ({
  evaluatorId,
  name: evaluatorId.toUpperCase(),
  score,
  passed,
  explanation: null,
});

describe('experiment figures', () => {
  it('median is the middle value, or the mean of the two middle ones', () => {
    expect(median([])).toBe(null);
    expect(median([7])).toBe(7);
    expect(median([90, 10, 50])).toBe(50);
    expect(median([100, 0, 40, 60])).toBe(50);
  });

  it('aggregates mean, p50 and pass rate per evaluator; unscored items count as not passed', () => {
    const items = [
      [s('a', 100, true), s('b', 80, true)],
      [s('a', 0, false), s('b', null, false)],
      [s('a', 50, true), s('b', 40, false)],
    ];
    expect(aggregate(ev, items)).toEqual([
      { evaluatorId: 'a', name: 'A', mean: 50, p50: 50, passRate: 0.6667, scored: 3 },
      { evaluatorId: 'b', name: 'B', mean: 60, p50: 60, passRate: 0.3333, scored: 2 },
    ]);
    expect(aggregate(ev, [])).toEqual([
      { evaluatorId: 'a', name: 'A', mean: null, p50: null, passRate: null, scored: 0 },
      { evaluatorId: 'b', name: 'B', mean: null, p50: null, passRate: null, scored: 0 },
    ]);
  });

  it('shortfalls name each evaluator and figure under the bar', () => {
    const aggs = aggregate(ev, [
      [s('a', 100, true), s('b', 60, false)],
      [s('a', 80, true), s('b', 70, true)],
    ]);
    expect(shortfalls(aggs, { minScore: 70 })).toEqual([
      { evaluator: 'B', figure: 'mean', value: 65, required: 70 },
    ]);
    expect(shortfalls(aggs, { minPassRate: 0.9 })).toEqual([
      { evaluator: 'B', figure: 'passRate', value: 0.5, required: 0.9 },
    ]);
    expect(shortfalls(aggs, { minScore: 60, minPassRate: 0.5 })).toEqual([]);
  });
});
