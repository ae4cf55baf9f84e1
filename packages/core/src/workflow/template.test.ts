import { describe, expect, it } from 'vitest';
import { parseTemplate, renderString, renderValue, TemplateError, templateNodeRefs } from './template.ts';

const ctx = {
  input: { ticket: 'Help', n: 3, tags: ['a', 'b'] },
  variables: { tone: 'kind' },
  nodes: { c: { output: { category: 'bug', list: [1, 2] } } },
};

describe('templates', () => {
  it('interpolates and keeps raw values for whole-string templates', () => {
    expect(renderString('Ticket: {{input.ticket}} ({{ variables.tone }})', ctx)).toBe('Ticket: Help (kind)');
    expect(renderString('{{nodes.c.output}}', ctx)).toEqual({ category: 'bug', list: [1, 2] });
    expect(renderString('{{input.n}}', ctx)).toBe(3);
    expect(renderString('n={{input.n}} obj={{nodes.c.output.list}} tag={{input.tags[1]}}', ctx)).toBe(
      'n=3 obj=[1,2] tag=b',
    );
    expect(renderString('missing: "{{input.nope.deeper}}"', ctx)).toBe('missing: ""');
    expect(renderString('{{input.nope}}', ctx)).toBeNull();
    expect(renderValue({ a: ['{{input.n}}', 'x'] }, ctx)).toEqual({ a: [3, 'x'] });
  });

  it('does not read inherited properties', () => {
    expect(renderString('{{input.constructor}}', ctx)).toBeNull();
  });

  it('reports what is wrong', () => {
    expect(() => parseTemplate('{{ }}')).toThrow(TemplateError);
    expect(() => parseTemplate('{{input.a-b}}')).toThrow(/cannot read "-b"/);
    expect(() => parseTemplate('{{process.env}}')).toThrow(/unknown root "process"/);
    expect(() => parseTemplate('a }} b')).toThrow(/without an opening/);
  });

  it('lists node references', () => {
    expect(templateNodeRefs('{{nodes.a.output}} {{nodes.b}} {{input.x}} {{nodes.a.x}}')).toEqual(['a', 'b']);
  });
});
