import { describe, expect, it } from 'vitest';
import { parseDefinition } from './definition.ts';

const agent = (id: string, prompt = 'Hi {{input.x}}') => ({
  id,
  type: 'agent',
  agent: { model: 'simulator:echo', prompt },
});
const base = (nodes: unknown[], connections: unknown[] = [], extra: Record<string, unknown> = {}) => ({
  name: 'wf',
  nodes,
  connections,
  ...extra,
});
const issuesOf = (raw: unknown) => {
  const r = parseDefinition(raw);
  if (r.ok) throw new Error('expected issues');
  return r.issues;
};

describe('parseDefinition', () => {
  it('accepts the API.md example', () => {
    const r = parseDefinition({
      name: 'ticket-triage',
      input: { type: 'object', properties: { ticket: { type: 'string' } }, required: ['ticket'] },
      variables: { tone: 'friendly' },
      nodes: [
        {
          id: 'classify',
          type: 'agent',
          agent: {
            model: 'openai:gpt-4o-mini',
            system: 'You sort.',
            prompt: 'Category of: {{input.ticket}}',
            output: { type: 'object' },
          },
          retry: { maxAttempts: 3, backoff: 'exponential', initialDelayMs: 500 },
          timeoutMs: 30000,
          position: { x: 0, y: 0 },
        },
        {
          id: 'reply',
          type: 'agent',
          agent: {
            model: 'anthropic:claude-sonnet-4-5',
            prompt: 'Reply ({{variables.tone}}) to: {{input.ticket}}',
          },
        },
        {
          id: 'result',
          type: 'output',
          value: { category: '{{nodes.classify.output.category}}', reply: '{{nodes.reply.output}}' },
        },
      ],
      connections: [
        { from: 'classify', to: 'reply', condition: "nodes.classify.output.category != 'spam'" },
        { from: 'reply', to: 'result' },
      ],
    });
    expect(r.ok).toBe(true);
  });

  it('reports an unknown node type with the node id', () => {
    expect(issuesOf(base([agent('a'), { id: 'b', type: 'teleport' }], [{ from: 'a', to: 'b' }]))).toEqual([
      {
        nodeId: 'b',
        path: 'nodes.b.type',
        message: expect.stringMatching(/unknown node type "teleport".*agent, tool, output/),
      },
    ]);
  });

  it('reports bad node fields by node id and field', () => {
    const issues = issuesOf(base([{ id: 'a', type: 'agent', agent: { model: 'gpt4', prompt: 'x' } }]));
    expect(issues[0]).toMatchObject({
      nodeId: 'a',
      path: 'nodes.a.agent.model',
      message: expect.stringMatching(/provider:model/),
    });
  });

  it('reports bad node ids, duplicates, dangling and self connections', () => {
    expect(issuesOf(base([agent('bad-id')]))[0]).toMatchObject({ path: 'nodes.bad-id.id' });
    expect(issuesOf(base([agent('a'), agent('a')]))[0]!.message).toMatch(/duplicate node id "a"/);
    const dangling = issuesOf(base([agent('a')], [{ from: 'a', to: 'ghost' }]));
    expect(dangling[0]).toMatchObject({
      path: 'connections[0].to',
      message: 'connection to unknown node "ghost"',
    });
    expect(
      issuesOf(
        base(
          [agent('a'), agent('b')],
          [
            { from: 'a', to: 'a' },
            { from: 'a', to: 'b' },
          ],
        ),
      )[0]!.message,
    ).toMatch(/connected to itself/);
  });

  it('reports cycles naming the nodes on them', () => {
    const issues = issuesOf(
      base(
        [agent('a'), agent('b'), agent('c')],
        [
          { from: 'a', to: 'b' },
          { from: 'b', to: 'c' },
          { from: 'c', to: 'b' },
        ],
      ),
    );
    expect(issues.map((i) => i.nodeId).sort()).toEqual(['b', 'c']);
    expect(issues[0]!.message).toMatch(/cycle/);
  });

  it('reports unconnected (unreachable) nodes', () => {
    const issues = issuesOf(base([agent('a'), agent('b'), agent('lonely')], [{ from: 'a', to: 'b' }]));
    expect(issues).toEqual([
      { nodeId: 'lonely', path: 'nodes.lonely', message: expect.stringMatching(/unreachable/) },
    ]);
  });

  it('reports bad templates and templates reading nodes that are not upstream', () => {
    const bad = issuesOf(base([agent('a', 'Hi {{input.x')]));
    expect(bad[0]).toMatchObject({
      nodeId: 'a',
      path: 'nodes.a.agent.prompt',
      message: expect.stringMatching(/unclosed/),
    });
    const root = issuesOf(base([agent('a', '{{secrets.key}}')]));
    expect(root[0]!.message).toMatch(/unknown root "secrets"/);
    const notUp = issuesOf(base([agent('a', '{{nodes.b.output}}'), agent('b')], [{ from: 'a', to: 'b' }]));
    expect(notUp[0]).toMatchObject({ nodeId: 'a', message: expect.stringMatching(/not upstream/) });
    const missing = issuesOf(base([{ id: 'out', type: 'output', value: { x: '{{nodes.nope.output}}' } }]));
    expect(missing[0]).toMatchObject({
      path: 'nodes.out.value.x',
      message: expect.stringMatching(/no node "nope"/),
    });
  });

  it('reports bad conditions and conditions reading downstream nodes', () => {
    const bad = issuesOf(
      base([agent('a'), agent('b')], [{ from: 'a', to: 'b', condition: 'nodes.a.output ==' }]),
    );
    expect(bad[0]).toMatchObject({
      path: 'connections[0].condition',
      message: expect.stringMatching(/bad condition on a → b/),
    });
    const down = issuesOf(
      base(
        [agent('a'), agent('b'), agent('c')],
        [
          { from: 'a', to: 'b', condition: "nodes.c.output == 'x'" },
          { from: 'b', to: 'c' },
        ],
      ),
    );
    expect(down[0]!.message).toMatch(/nodes.c, which is not upstream/);
  });

  it('requires exactly one of agent or agentId, and a valid input schema', () => {
    expect(issuesOf(base([{ id: 'a', type: 'agent' }]))[0]!.message).toMatch(/exactly one of agent/);
    expect(issuesOf(base([agent('a')], [], { input: { type: 'nonsense' } }))[0]).toMatchObject({
      path: 'input',
      message: expect.stringMatching(/not a valid JSON Schema/),
    });
  });

  it('refuses outgoing connections from an output node, and top-level shape errors', () => {
    const out = issuesOf(base([{ id: 'o', type: 'output', value: 1 }, agent('a')], [{ from: 'o', to: 'a' }]));
    expect(out[0]!.message).toMatch(/output node "o" cannot have outgoing/);
    expect(
      issuesOf({ nodes: [] })
        .map((i) => i.path)
        .sort(),
    ).toEqual(['name', 'nodes']);
  });

  it('reports every problem of a definition in one answer, not the first', () => {
    const issues = issuesOf(
      base(
        [
          agent('a', 'Hi {{input.x'),
          { id: 'b', type: 'teleport' },
          agent('c'),
          agent('c'),
          { id: 'd', type: 'agent', agent: { model: 'nosuchprovider:x', prompt: '  ' } },
        ],
        [
          { from: 'a', to: 'b' },
          { from: 'a', to: 'ghost' },
          { from: 'a', to: 'c', condition: 'nodes.a.output ==' },
          { from: 'c', to: 'd' },
        ],
      ),
    );
    expect(issues.map((i) => [i.path, i.message])).toEqual(
      expect.arrayContaining([
        ['nodes.a.agent.prompt', expect.stringMatching(/bad template: .*unclosed/)],
        ['nodes.b.type', expect.stringMatching(/unknown node type "teleport"/)],
        ['nodes.c.id', 'duplicate node id "c"'],
        ['connections[1].to', 'connection to unknown node "ghost"'],
        ['connections[2].condition', expect.stringMatching(/bad condition on a → c/)],
        ['nodes.d.agent.model', expect.stringMatching(/unknown provider "nosuchprovider".*simulator/)],
        ['nodes.d.agent.prompt', expect.stringMatching(/the prompt is empty/)],
      ]),
    );
    expect(issues).toHaveLength(7);
  });

  it('refuses an unknown provider (chat or embedding model) and an empty prompt', () => {
    expect(
      issuesOf(base([{ id: 'a', type: 'agent', agent: { model: 'nosuchprovider:x', prompt: 'hi' } }])),
    ).toEqual([
      {
        nodeId: 'a',
        path: 'nodes.a.agent.model',
        message: expect.stringMatching(
          /unknown provider "nosuchprovider" in nosuchprovider:x: use one of simulator, openai/,
        ),
      },
    ]);
    expect(issuesOf(base([agent('a', '')]))).toEqual([
      { nodeId: 'a', path: 'nodes.a.agent.prompt', message: expect.stringMatching(/the prompt is empty/) },
    ]);
    const memory = { semantic: { embeddingModel: 'nope:embed' } };
    const withMemory = { id: 'a', type: 'agent', agent: { model: 'simulator:echo', prompt: 'hi', memory } };
    expect(issuesOf(base([withMemory]))[0]).toMatchObject({
      path: 'nodes.a.agent.memory.semantic.embeddingModel',
    });
    expect(parseDefinition(base([agent('a')])).ok).toBe(true);
  });
});
