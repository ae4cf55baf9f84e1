import type { Connection, WorkflowDefinition, WorkflowNode } from '@aiops/contracts';
import { type CompiledCondition, compileCondition } from './condition.ts';

/**
 * A definition compiled for execution: nodes by id, edges in and out, entry nodes. Immutable, so the
 * engine caches one per workflow version.
 */
export interface Edge {
  from: string;
  to: string;
  condition?: string;
  compiled?: CompiledCondition;
}

export interface Graph {
  definition: WorkflowDefinition;
  nodes: Map<string, WorkflowNode>;
  outgoing: Map<string, Edge[]>;
  incoming: Map<string, Edge[]>;
  /** Nodes with no incoming connection: they start when the run starts. */
  entries: string[];
  /** Nodes in an order where every node comes after its predecessors. */
  order: string[];
}

export function buildGraph(definition: WorkflowDefinition, compileConditions = true): Graph {
  const nodes = new Map(definition.nodes.map((n) => [n.id, n]));
  const outgoing = new Map<string, Edge[]>();
  const incoming = new Map<string, Edge[]>();
  for (const n of definition.nodes) {
    outgoing.set(n.id, []);
    incoming.set(n.id, []);
  }
  for (const c of definition.connections as Connection[]) {
    if (!nodes.has(c.from) || !nodes.has(c.to)) continue;
    const edge: Edge = { from: c.from, to: c.to };
    if (c.condition !== undefined && c.condition.trim() !== '') {
      edge.condition = c.condition;
      if (compileConditions) edge.compiled = compileCondition(c.condition);
    }
    outgoing.get(c.from)!.push(edge);
    incoming.get(c.to)!.push(edge);
  }
  const entries = definition.nodes.filter((n) => incoming.get(n.id)!.length === 0).map((n) => n.id);
  return {
    definition,
    nodes,
    outgoing,
    incoming,
    entries,
    order: topologicalOrder(definition.nodes, incoming, outgoing),
  };
}

/** Kahn's algorithm; nodes on a cycle are left out (validation reports them). */
function topologicalOrder(
  nodes: WorkflowNode[],
  incoming: Map<string, Edge[]>,
  outgoing: Map<string, Edge[]>,
): string[] {
  const indegree = new Map(nodes.map((n) => [n.id, incoming.get(n.id)!.length]));
  const queue = nodes.filter((n) => indegree.get(n.id) === 0).map((n) => n.id);
  const order: string[] = [];
  while (queue.length) {
    const id = queue.shift()!;
    order.push(id);
    for (const e of outgoing.get(id)!) {
      const d = indegree.get(e.to)! - 1;
      indegree.set(e.to, d);
      if (d === 0) queue.push(e.to);
    }
  }
  return order;
}

/** Every node upstream of `id` (its ancestors). */
export function ancestors(graph: Graph, id: string): Set<string> {
  const seen = new Set<string>();
  const stack = [id];
  while (stack.length) {
    for (const e of graph.incoming.get(stack.pop()!) ?? []) {
      if (!seen.has(e.from)) {
        seen.add(e.from);
        stack.push(e.from);
      }
    }
  }
  return seen;
}
