import { describe, expect, it } from 'vitest';
import { literalPlaceholders, rerunOf } from './rerun.ts';

describe('re-run helpers', () => {
  it('lists the placeholders an edited prompt would send literally, once each', () => {
    expect(literalPlaceholders('Hi {{input.name}}, {{ nodes.a.output }} and {{input.name}}')).toEqual([
      '{{input.name}}',
      '{{ nodes.a.output }}',
    ]);
    expect(literalPlaceholders('plain text { not } a placeholder')).toEqual([]);
  });

  it('reads the re-run link from the API field, else from the metadata', () => {
    expect(rerunOf({ rerunOfExecutionId: 'a', metadata: { rerunOf: 'b' } })).toBe('a');
    expect(rerunOf({ metadata: { rerunOf: 'b' } })).toBe('b');
    expect(rerunOf({ metadata: {} })).toBeNull();
  });
});
