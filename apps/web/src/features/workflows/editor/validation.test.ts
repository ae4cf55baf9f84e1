import { describe, expect, it } from 'vitest';
import { diffLines } from './diff.ts';
import { buildInput, fieldsOf } from './schema-form.ts';
import { mapIssues } from './validation.ts';

describe('validation issues on nodes', () => {
  it('puts issues with a node id (or a nodes.<id> path) on that node, the rest above the canvas', () => {
    const m = mapIssues(
      [
        { nodeId: 'agent_1', path: 'nodes.agent_1', message: 'give agent (inline) or agentId' },
        { path: 'nodes.output_1.value', message: 'unknown node nodes.x' },
        { nodeId: 'gone', path: 'nodes.gone', message: 'stale' },
        { path: 'connections[0]', message: 'connection to an unknown node zz' },
        { nodeId: 'agent_1', path: 'nodes.agent_1.retry', message: 'too many attempts' },
      ],
      ['agent_1', 'output_1'],
    );
    expect(m.byNode).toEqual({
      agent_1: ['Give agent (inline) or agentId', 'Too many attempts'],
      output_1: ['Unknown node nodes.x'],
    });
    expect(m.general).toEqual(['stale', 'connections[0]: connection to an unknown node zz']);
  });
});

describe('node problems in plain words', () => {
  it('rewords the definition checker for people at the canvas', () => {
    const m = mapIssues(
      [
        { nodeId: 'a', path: 'nodes.a', message: 'set exactly one of agent (inline) or agentId' },
        {
          nodeId: 'b',
          path: 'nodes.b',
          message:
            'node "b" is not connected to the rest of the workflow, so it is unreachable: connect it or remove it',
        },
      ],
      ['a', 'b'],
    );
    expect(m.byNode).toEqual({
      a: ['Choose a saved agent, or define one here.'],
      b: ['Not connected: drag from a handle to connect it, or delete it.'],
    });
  });
});

describe('run form from the input schema', () => {
  const schema = {
    type: 'object',
    required: ['ticket', 'count'],
    properties: {
      ticket: { type: 'string', title: 'Ticket text' },
      count: { type: 'integer' },
      urgent: { type: 'boolean', default: true },
      tier: { enum: ['free', 'pro'] },
      meta: { type: 'object' },
    },
  };
  it('makes one field per property with its kind', () => {
    const f = fieldsOf(schema);
    expect(f.map((x) => [x.name, x.kind, x.required])).toEqual([
      ['ticket', 'text', true],
      ['count', 'integer', true],
      ['urgent', 'boolean', false],
      ['tier', 'enum', false],
      ['meta', 'json', false],
    ]);
    expect(f[0]!.label).toBe('Ticket text');
    expect(f[2]!.initial).toBe(true);
  });
  it('builds typed input and says what is wrong', () => {
    const f = fieldsOf(schema);
    expect(buildInput(f, { ticket: 'hi', count: '3', meta: '{"a":1}', tier: 'pro' })).toEqual({
      input: { ticket: 'hi', count: 3, urgent: true, tier: 'pro', meta: { a: 1 } },
      errors: {},
    });
    expect(buildInput(f, { count: '1.5', meta: '{' }).errors).toEqual({
      ticket: 'is required',
      count: 'must be a whole number',
      meta: 'must be JSON',
    });
  });
});

describe('version diff', () => {
  it('marks added and removed lines', () => {
    expect(diffLines('a\nb\nc', 'a\nc\nd')).toEqual([
      { kind: 'same', text: 'a' },
      { kind: 'removed', text: 'b' },
      { kind: 'same', text: 'c' },
      { kind: 'added', text: 'd' },
    ]);
  });
});
