import { describe, expect, it } from 'vitest';
import { initHistory, LIMIT, push, redo, replace, undo } from './history.ts';

describe('undo/redo', () => {
  it('undoes and redoes in order; a new edit clears the redo stack', () => {
    let h = initHistory('a');
    h = push(h, 'b', null, 0);
    h = push(h, 'c', null, 5000);
    h = undo(h);
    expect(h.present).toBe('b');
    h = undo(h);
    expect(h.present).toBe('a');
    expect(undo(h)).toBe(h);
    h = redo(h);
    expect(h.present).toBe('b');
    h = push(h, 'x', null, 9000);
    expect(h.future).toEqual([]);
    expect(redo(h)).toBe(h);
    expect(h.past).toEqual(['a', 'b']);
  });

  it('merges quick edits of one field into one step, but not edits of different fields', () => {
    let h = initHistory('');
    h = push(h, 'h', 'name', 0);
    h = push(h, 'he', 'name', 300);
    h = push(h, 'hey', 'name', 600);
    expect(h.past).toEqual(['']);
    h = push(h, 'hey!', 'prompt', 700);
    expect(h.past).toEqual(['', 'hey']);
    h = push(h, 'hey!!', 'prompt', 5000);
    expect(h.past).toEqual(['', 'hey', 'hey!']);
    expect(undo(undo(h)).present).toBe('hey');
  });

  it('replace changes the present without an undo step; the history is bounded', () => {
    let h = initHistory(0);
    h = replace(h, 1);
    expect(h.past).toEqual([]);
    for (let i = 2; i < LIMIT + 50; i++) h = push(h, i, null, i * 10_000);
    expect(h.past.length).toBe(LIMIT);
  });
});
