import { describe, expect, it } from 'vitest';
import { meaningfulChanges } from './audit.ts';

describe('audit row changes', () => {
  it('hides empty before/after (a sign-in) and keeps what changed', () => {
    expect(meaningfulChanges({ before: null, after: null })).toBeNull();
    expect(meaningfulChanges({ before: {}, after: null })).toBeNull();
    expect(meaningfulChanges(null)).toBeNull();
    expect(meaningfulChanges({ before: null, after: { name: 'x' } })).toEqual({ after: { name: 'x' } });
  });
});
