import { describe, expect, it } from 'vitest';
import type { WorkflowDefinition } from '../../../api/types.ts';
import {
  addNode,
  connect,
  edgeLabel,
  freshId,
  layout,
  removeSelected,
  renameNode,
  setCondition,
  toDefinition,
  toGraph,
  updateConfig,
} from './graph.ts';

const triage: WorkflowDefinition = {
  name: 'ticket-triage',
  description: 'Classify, then reply',
  input: { type: 'object', properties: { ticket: { type: 'string' } }, required: ['ticket'] },
  variables: { tone: 'friendly' },
  nodes: [
    {
      id: 'classify',
      type: 'agent',
      name: 'Classify',
      agent: { model: 'simulator:json', prompt: 'Category of: {{input.ticket}}' },
      retry: { maxAttempts: 3 },
      position: { x: 0, y: 0 },
    },
    {
      id: 'reply',
      type: 'agent',
      agentId: '7d0c3d1e-8a1b-4c1e-9d5f-2a3b4c5d6e7f',
      position: { x: 320, y: 0 },
    },
    { id: 'result', type: 'output', value: { reply: '{{nodes.reply.output}}' }, position: { x: 640, y: 0 } },
  ],
  connections: [
    { from: 'classify', to: 'reply', condition: "nodes.classify.output.category != 'spam'" },
    { from: 'reply', to: 'result' },
  ],
};

describe('graph ↔ definition', () => {
  it('round-trips a definition unchanged', () => {
    expect(toDefinition(toGraph(triage))).toEqual(triage);
  });

  it('puts node settings in data and conditions on edges', () => {
    const g = toGraph(triage);
    expect(g.meta).toEqual({
      name: 'ticket-triage',
      description: 'Classify, then reply',
      input: triage.input,
      variables: { tone: 'friendly' },
    });
    expect(g.nodes[0]).toMatchObject({ id: 'classify', type: 'step', position: { x: 0, y: 0 } });
    expect(g.nodes[0]!.data.config).not.toHaveProperty('id');
    expect(g.nodes[0]!.data.config).not.toHaveProperty('position');
    expect(g.edges[0]).toMatchObject({
      id: 'classify->reply',
      source: 'classify',
      target: 'reply',
      label: "output.category != 'spam'",
      data: { condition: "nodes.classify.output.category != 'spam'" },
    });
  });

  it('lays out nodes saved without positions in columns by depth', () => {
    const def: WorkflowDefinition = {
      name: 'fan',
      nodes: [
        { id: 'a', type: 'output', value: 1 },
        { id: 'b', type: 'output', value: 1 },
        { id: 'c', type: 'output', value: 1 },
        { id: 'd', type: 'output', value: 1 },
      ],
      connections: [
        { from: 'a', to: 'b' },
        { from: 'a', to: 'c' },
        { from: 'b', to: 'd' },
        { from: 'c', to: 'd' },
      ],
    };
    const at = layout(def);
    expect(at.get('a')).toEqual({ x: 0, y: 0 });
    expect(at.get('b')!.x).toBe(at.get('c')!.x);
    expect(at.get('b')!.y).not.toBe(at.get('c')!.y);
    expect(at.get('d')!.x).toBeGreaterThan(at.get('b')!.x);
    // positions are rounded and saved once the graph goes back to a definition
    expect(toDefinition(toGraph(def)).nodes.every((n) => n.position)).toBe(true);
  });

  it('drops empty conditions and rounds dragged positions', () => {
    let g = toGraph(triage);
    g = setCondition(g, 'classify->reply', '   ');
    g = {
      ...g,
      nodes: g.nodes.map((n) => (n.id === 'reply' ? { ...n, position: { x: 10.4, y: 20.6 } } : n)),
    };
    const def = toDefinition(g);
    expect(def.connections[0]).toEqual({ from: 'classify', to: 'reply' });
    expect(def.nodes[1]!.position).toEqual({ x: 10, y: 21 });
  });
});

describe('connection labels', () => {
  it("shows the source step's output as `output`, other references as written", () => {
    expect(edgeLabel("nodes.classify.output.category != 'spam'", 'classify')).toBe(
      "output.category != 'spam'",
    );
    expect(edgeLabel('nodes.other.output.x == 1 && nodes.classify.output.y', 'classify')).toBe(
      'nodes.other.output.x == 1 && output.y',
    );
    expect(edgeLabel('  ', 'classify')).toBeUndefined();
    expect(edgeLabel(undefined, 'classify')).toBeUndefined();
  });
});

describe('editing operations', () => {
  it('adds nodes with fresh ids and default settings, selecting the new one', () => {
    let g = toGraph({ name: 'w', nodes: [], connections: [] } as unknown as WorkflowDefinition);
    g = addNode(g, 'agent', { x: 1, y: 2 });
    g = addNode(g, 'agent', { x: 3, y: 4 });
    g = addNode(g, 'output', { x: 5, y: 6 });
    expect(g.nodes.map((n) => n.id)).toEqual(['agent_1', 'agent_2', 'output_1']);
    expect(g.nodes.map((n) => !!n.selected)).toEqual([false, false, true]);
    expect(g.nodes[2]!.data.config).toEqual({ type: 'output', value: '{{input}}' });
    expect(freshId('agent', ['agent_1', 'agent_3'])).toBe('agent_2');
    const withEdge = connect(g, 'agent_1', 'agent_2');
    const picked = { ...withEdge, edges: withEdge.edges.map((e) => ({ ...e, selected: true })) };
    expect(addNode(picked, 'tool', { x: 0, y: 0 }).edges.every((e) => !e.selected)).toBe(true);
  });

  it('points a new output at the first step connected into it', () => {
    let g = toGraph({ name: 'w', nodes: [], connections: [] } as unknown as WorkflowDefinition);
    g = addNode(addNode(addNode(g, 'agent', { x: 0, y: 0 }), 'agent', { x: 1, y: 0 }), 'output', {
      x: 2,
      y: 0,
    });
    g = connect(connect(g, 'agent_2', 'output_1'), 'agent_1', 'output_1');
    expect(g.nodes[2]!.data.config).toEqual({ type: 'output', value: '{{nodes.agent_2.output}}' });
  });

  it('connects once, never a node to itself', () => {
    let g = toGraph(triage);
    g = connect(g, 'classify', 'result');
    g = connect(g, 'classify', 'result');
    g = connect(g, 'reply', 'reply');
    expect(g.edges.map((e) => e.id)).toEqual(['classify->reply', 'reply->result', 'classify->result']);
  });

  it('renames a node with its connections, refusing a taken id', () => {
    const g = renameNode(toGraph(triage), 'reply', 'draft');
    expect(g.nodes.map((n) => n.id)).toEqual(['classify', 'draft', 'result']);
    expect(g.edges.map((e) => e.id)).toEqual(['classify->draft', 'draft->result']);
    expect(g.edges[0]!.data?.condition).toBe("nodes.classify.output.category != 'spam'");
    expect(renameNode(g, 'draft', 'classify')).toBe(g);
  });

  it('removes selected nodes with their connections', () => {
    const g = toGraph(triage);
    const selected = { ...g, nodes: g.nodes.map((n) => ({ ...n, selected: n.id === 'reply' })) };
    const after = removeSelected(selected);
    expect(after.nodes.map((n) => n.id)).toEqual(['classify', 'result']);
    expect(after.edges).toEqual([]);
  });

  it('updates one node’s settings', () => {
    const g = updateConfig(toGraph(triage), 'result', { type: 'output', value: 'done' });
    expect(toDefinition(g).nodes[2]).toEqual({
      id: 'result',
      type: 'output',
      value: 'done',
      position: { x: 640, y: 0 },
    });
  });
});
