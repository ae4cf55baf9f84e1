import { describe, expect, it } from 'vitest';
import { inputNames, splitTemplate, templateVariables } from './prompt.ts';

describe('prompt variables', () => {
  it('splits a template into text and {{variables}}', () => {
    expect(splitTemplate('Reply ({{ variables.tone }}) to {{input.ticket}}.')).toEqual([
      { text: 'Reply (', variable: false },
      { text: '{{ variables.tone }}', variable: true },
      { text: ') to ', variable: false },
      { text: '{{input.ticket}}', variable: true },
      { text: '.', variable: false },
    ]);
    expect(templateVariables('{{input.a}} {{ input.a }} {{nodes.x.output}}')).toEqual([
      'input.a',
      'nodes.x.output',
    ]);
    expect(inputNames('{{input.a.b}} {{input.c}} {{variables.d}} {{input.a}}')).toEqual(['a', 'c']);
  });
});
