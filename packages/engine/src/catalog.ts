import type { RetryPolicy, WorkflowDefinition } from '@aiops/contracts';
import {
  ancestors,
  buildGraph,
  collectTemplates,
  conditionNodeRefs,
  type Graph,
  retryPolicy,
  templateFields,
  templateNodeRefs,
} from '@aiops/core';
import { type AgentConfiguration, agentVersions, type Tx, workflowVersions } from '@aiops/db';
import { and, eq } from 'drizzle-orm';

/** A workflow version ready to execute: its graph plus what each node reads. Immutable, so cached. */
export interface CompiledVersion {
  workflowId: string;
  version: number;
  graph: Graph;
  /** Node ids each node's templates and outgoing conditions read (`nodes.<id>`); a code node: all upstream. */
  reads: Map<string, string[]>;
  retry: Map<string, RetryPolicy>;
  /** Output nodes, or the sinks when there is none: their outputs make the run's output. */
  resultNodes: string[];
  /** The steps a new run starts with: entry nodes ready, the rest pending on their inputs. */
  stepTemplate: { node_id: string; status: 'ready' | 'pending'; pending_inputs: number }[];
  /** Some agent node references an org-level agent, whose version a run pins at start. */
  hasAgentRefs: boolean;
}

export function compileVersion(
  workflowId: string,
  version: number,
  definition: WorkflowDefinition,
): CompiledVersion {
  const graph = buildGraph(definition);
  const reads = new Map<string, string[]>();
  const retry = new Map<string, RetryPolicy>();
  for (const node of definition.nodes) {
    const fields = templateFields(node);
    const refs = new Set(collectTemplates(fields).flatMap((t) => templateNodeRefs(t.template)));
    for (const e of graph.outgoing.get(node.id)!) {
      if (e.condition) for (const r of conditionNodeRefs(e.condition)) refs.add(r);
    }
    // code reads any upstream node's output (`nodes.<id>.output`), which no template names
    if (node.type === 'code') for (const r of ancestors(graph, node.id)) refs.add(r);
    refs.delete(node.id);
    reads.set(node.id, [...refs]);
    retry.set(node.id, retryPolicy(definition.settings?.retry, node.retry));
  }
  const outputs = definition.nodes.filter((n) => n.type === 'output').map((n) => n.id);
  const sinks = definition.nodes.filter((n) => graph.outgoing.get(n.id)!.length === 0).map((n) => n.id);
  const stepTemplate = definition.nodes.map((n) => {
    const inputs = graph.incoming.get(n.id)!.length;
    return {
      node_id: n.id,
      status: inputs === 0 ? ('ready' as const) : ('pending' as const),
      pending_inputs: inputs,
    };
  });
  return {
    workflowId,
    version,
    graph,
    reads,
    retry,
    resultNodes: outputs.length ? outputs : sinks,
    stepTemplate,
    hasAgentRefs: definition.nodes.some((n) => n.type === 'agent' && n.agentId !== undefined),
  };
}

class Lru<V> {
  private map = new Map<string, V>();
  constructor(private readonly max: number) {}
  get(key: string): V | undefined {
    const v = this.map.get(key);
    if (v !== undefined) {
      this.map.delete(key);
      this.map.set(key, v);
    }
    return v;
  }
  set(key: string, value: V) {
    this.map.delete(key);
    this.map.set(key, value);
    if (this.map.size > this.max) this.map.delete(this.map.keys().next().value!);
  }
}

/** Caches immutable workflow versions and agent versions, loading them on a miss. */
export class Catalog {
  private versions = new Lru<CompiledVersion>(500);
  private agents = new Lru<AgentConfiguration>(2000);

  async version(tx: Tx, workflowId: string, version: number): Promise<CompiledVersion> {
    const key = `${workflowId}:${version}`;
    const hit = this.versions.get(key);
    if (hit) return hit;
    const [row] = await tx
      .select({ definition: workflowVersions.definition })
      .from(workflowVersions)
      .where(and(eq(workflowVersions.workflowId, workflowId), eq(workflowVersions.version, version)));
    if (!row) throw new Error(`workflow ${workflowId} has no version ${version}`);
    const compiled = compileVersion(workflowId, version, row.definition as unknown as WorkflowDefinition);
    this.versions.set(key, compiled);
    return compiled;
  }

  /** The cached version, without loading. */
  cachedVersion(workflowId: string, version: number): CompiledVersion | undefined {
    return this.versions.get(`${workflowId}:${version}`);
  }

  cachedAgent(agentId: string, versionNumber: number): AgentConfiguration | undefined {
    return this.agents.get(`${agentId}:${versionNumber}`);
  }

  remember(compiled: CompiledVersion) {
    this.versions.set(`${compiled.workflowId}:${compiled.version}`, compiled);
  }

  async agent(tx: Tx, agentId: string, versionNumber: number): Promise<AgentConfiguration> {
    const key = `${agentId}:${versionNumber}`;
    const hit = this.agents.get(key);
    if (hit) return hit;
    const [row] = await tx
      .select({ configuration: agentVersions.configuration, kind: agentVersions.kind })
      .from(agentVersions)
      .where(and(eq(agentVersions.agentId, agentId), eq(agentVersions.versionNumber, versionNumber)));
    if (!row) throw new Error(`agent ${agentId} has no version ${versionNumber}`);
    const configuration = { ...row.configuration, kind: row.kind };
    this.agents.set(key, configuration);
    return configuration;
  }
}
