import { describe, expect, it } from 'vitest';
import { sortRows } from './sort.ts';

describe('table sorting', () => {
  const rows = [
    { name: 'run 10', cost: 2, at: '2026-01-02T00:00:00Z' },
    { name: 'run 9', cost: null, at: '2026-01-03T00:00:00Z' },
    { name: 'run 11', cost: 0.5, at: '2026-01-01T00:00:00Z' },
  ];
  it('orders numbers by value with empty values last, either way', () => {
    expect(sortRows(rows, (r) => r.cost, 'asc').map((r) => r.cost)).toEqual([0.5, 2, null]);
    expect(sortRows(rows, (r) => r.cost, 'desc').map((r) => r.cost)).toEqual([2, 0.5, null]);
  });
  it('orders text naturally and ISO times chronologically', () => {
    expect(sortRows(rows, (r) => r.name, 'asc').map((r) => r.name)).toEqual(['run 9', 'run 10', 'run 11']);
    expect(sortRows(rows, (r) => r.at, 'desc').map((r) => r.name)).toEqual(['run 9', 'run 10', 'run 11']);
  });
});
