/**
 * The editor's graph ↔ the workflow definition of API.md. The canvas holds React Flow nodes whose data is
 * the definition node without id and position (those live on the React Flow node); edges carry the
 * connection's condition. Pure functions, tested without a browser.
 */
import type { Edge, Node } from '@xyflow/react';
import type { NodeType, StepStatus, WorkflowDefinition, WorkflowNode } from '../../../api/types.ts';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
/** A definition node without its id and position. */
export type NodeConfig = DistributiveOmit<WorkflowNode, 'id' | 'position'>;

/** What a canvas node carries; run state and issues are added for display only. */
export type StepData = {
  config: NodeConfig;
  issues?: string[];
  status?: StepStatus;
  tokens?: number;
  cost?: number;
  attempts?: number;
};
export type StepNode = Node<StepData, 'step'>;
export type ConditionEdge = Edge<{ condition?: string }>;

/** Everything of a definition but its nodes and connections. */
export type WorkflowMeta = Omit<WorkflowDefinition, 'nodes' | 'connections'>;

export interface Graph {
  meta: WorkflowMeta;
  nodes: StepNode[];
  edges: ConditionEdge[];
}

/** What a new output step returns until something is connected into it. */
const DEFAULT_OUTPUT = '{{input}}';
const X_GAP = 320;
const Y_GAP = 140;

export const edgeId = (from: string, to: string) => `${from}->${to}`;

/**
 * A condition as a connection's label (drawn wrapped between the steps by ConditionEdgeView). The
 * connection starts at `from`, so `nodes.<from>.output` is shown as `output`: two branches of one step
 * then fit between the steps without overlapping. The full condition stays in the connection's data.
 */
export function edgeLabel(condition: string | undefined, from: string): string | undefined {
  const text = condition?.trim();
  if (!text) return undefined;
  return text.split(`nodes.${from}.output`).join('output');
}

export function makeEdge(from: string, to: string, condition?: string): ConditionEdge {
  const label = edgeLabel(condition, from);
  return {
    id: edgeId(from, to),
    source: from,
    target: to,
    data: condition ? { condition } : {},
    ...(label ? { label } : {}),
  };
}

/** Positions for nodes saved without one: columns by depth from the start nodes. */
export function layout(
  def: Pick<WorkflowDefinition, 'nodes' | 'connections'>,
): Map<string, { x: number; y: number }> {
  const depth = new Map<string, number>();
  const incoming = new Map<string, string[]>();
  for (const c of def.connections) incoming.set(c.to, [...(incoming.get(c.to) ?? []), c.from]);
  const visiting = new Set<string>();
  const depthOf = (id: string): number => {
    const known = depth.get(id);
    if (known !== undefined) return known;
    if (visiting.has(id)) return 0;
    visiting.add(id);
    const d = Math.max(-1, ...(incoming.get(id) ?? []).map(depthOf)) + 1;
    visiting.delete(id);
    depth.set(id, d);
    return d;
  };
  const rows = new Map<number, number>();
  const out = new Map<string, { x: number; y: number }>();
  for (const n of def.nodes) {
    const d = depthOf(n.id);
    const row = rows.get(d) ?? 0;
    rows.set(d, row + 1);
    out.set(n.id, { x: d * X_GAP, y: row * Y_GAP });
  }
  return out;
}

export function toGraph(def: WorkflowDefinition): Graph {
  const { nodes, connections, ...meta } = def;
  const auto = layout(def);
  return {
    meta,
    nodes: nodes.map((n) => {
      const { id, position, ...config } = n;
      return {
        id,
        type: 'step' as const,
        position: position ?? auto.get(id) ?? { x: 0, y: 0 },
        data: { config: config as NodeConfig },
      };
    }),
    edges: (connections ?? []).map((c) => makeEdge(c.from, c.to, c.condition)),
  };
}

export function toDefinition(graph: Graph): WorkflowDefinition {
  const nodes = graph.nodes.map(
    (n) =>
      ({
        id: n.id,
        ...n.data.config,
        position: { x: Math.round(n.position.x), y: Math.round(n.position.y) },
      }) as WorkflowNode,
  );
  const connections = graph.edges.map((e) => {
    const condition = e.data?.condition?.trim();
    return condition ? { from: e.source, to: e.target, condition } : { from: e.source, to: e.target };
  });
  return { ...graph.meta, nodes, connections };
}

/** The configuration a node of each type starts with. */
export function defaultConfig(type: NodeType): NodeConfig {
  switch (type) {
    case 'agent':
      return { type: 'agent' };
    case 'tool':
      return { type: 'tool', tool: 'json_transform', config: { expression: '$' }, input: '{{input}}' };
    case 'approval':
      return { type: 'approval', message: 'Approve this step?' };
    case 'subworkflow':
      return { type: 'subworkflow', workflowId: '' };
    case 'output':
      return { type: 'output', value: DEFAULT_OUTPUT };
    case 'delay':
      return { type: 'delay', durationMs: 1000 };
    case 'code':
      return { type: 'code', language: 'javascript', code: 'return input;' };
  }
}

/** A fresh node id: the type, then the first free number (`agent_1`, `agent_2`, …). */
export function freshId(type: NodeType, taken: Iterable<string>): string {
  const used = new Set(taken);
  for (let i = 1; ; i++) {
    const id = `${type}_${i}`;
    if (!used.has(id)) return id;
  }
}

export function addNode(graph: Graph, type: NodeType, position: { x: number; y: number }): Graph {
  const id = freshId(
    type,
    graph.nodes.map((n) => n.id),
  );
  const node: StepNode = { id, type: 'step', position, data: { config: defaultConfig(type) } };
  // The new step is the only selection, so Delete right after removes it and nothing else.
  return {
    ...graph,
    nodes: [...graph.nodes.map((n) => ({ ...n, selected: false })), { ...node, selected: true }],
    edges: graph.edges.map((e) => (e.selected ? { ...e, selected: false } : e)),
  };
}

/**
 * Connects two steps once (never a step to itself). An output still at its default value starts
 * returning the output of the first step connected into it.
 */
export function connect(graph: Graph, from: string, to: string): Graph {
  if (from === to || graph.edges.some((e) => e.source === from && e.target === to)) return graph;
  const nodes = graph.nodes.map((n) =>
    n.id === to && n.data.config.type === 'output' && n.data.config.value === DEFAULT_OUTPUT
      ? { ...n, data: { ...n.data, config: { ...n.data.config, value: `{{nodes.${from}.output}}` } } }
      : n,
  );
  return { ...graph, nodes, edges: [...graph.edges, makeEdge(from, to)] };
}

export function setCondition(graph: Graph, id: string, condition: string): Graph {
  return {
    ...graph,
    edges: graph.edges.map((e) =>
      e.id === id ? { ...e, data: { condition }, label: edgeLabel(condition, e.source) } : e,
    ),
  };
}

export function updateConfig(graph: Graph, id: string, config: NodeConfig): Graph {
  return {
    ...graph,
    nodes: graph.nodes.map((n) => (n.id === id ? { ...n, data: { ...n.data, config } } : n)),
  };
}

/** Renames a node and its connections; templates that name it are the user's to update. */
export function renameNode(graph: Graph, from: string, to: string): Graph {
  if (from === to || graph.nodes.some((n) => n.id === to)) return graph;
  return {
    ...graph,
    nodes: graph.nodes.map((n) => (n.id === from ? { ...n, id: to } : n)),
    edges: graph.edges.map((e) => {
      const source = e.source === from ? to : e.source;
      const target = e.target === from ? to : e.target;
      return { ...e, id: edgeId(source, target), source, target };
    }),
  };
}

export function removeSelected(graph: Graph): Graph {
  const gone = new Set(graph.nodes.filter((n) => n.selected).map((n) => n.id));
  return {
    ...graph,
    nodes: graph.nodes.filter((n) => !gone.has(n.id)),
    edges: graph.edges.filter((e) => !e.selected && !gone.has(e.source) && !gone.has(e.target)),
  };
}
