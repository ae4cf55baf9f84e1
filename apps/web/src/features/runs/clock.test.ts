import { describe, expect, it } from 'vitest';
import { clockTime } from './clock.ts';

describe('the event log time', () => {
  it('is HH:MM:SS.mmm in local time', () => {
    const at = new Date(2026, 0, 2, 3, 4, 5, 67);
    expect(clockTime(at.toISOString())).toBe('03:04:05.067');
    const late = new Date(2026, 0, 2, 23, 59, 59, 999);
    expect(clockTime(late.toISOString())).toBe('23:59:59.999');
  });
});
