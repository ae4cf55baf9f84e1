import { describe, expect, it } from 'vitest';
import { placeholdersIn, rerunOf } from './rerun.ts';

describe('re-run helpers', () => {
  it('lists the placeholders of an edited prompt, once each', () => {
    expect(placeholdersIn('Hi {{input.name}}, {{ nodes.a.output }} and {{input.name}}')).toEqual([
      '{{input.name}}',
      '{{ nodes.a.output }}',
    ]);
    expect(placeholdersIn('plain text { not } a placeholder')).toEqual([]);
  });

  it('reads the re-run link from the API field, else from the metadata', () => {
    expect(rerunOf({ rerunOfExecutionId: 'a', metadata: { rerunOf: 'b' } })).toBe('a');
    expect(rerunOf({ metadata: { rerunOf: 'b' } })).toBe('b');
    expect(rerunOf({ metadata: {} })).toBeNull();
  });
});
