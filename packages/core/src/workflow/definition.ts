import {
  type DefinitionIssue,
  definitionEnvelopeSchema,
  INTEGRATION_PROVIDER_VALUES,
  NODE_TYPES,
  type WorkflowDefinition,
  type WorkflowNode,
  workflowNodeSchema,
} from '@aiops/contracts';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { linearRegExp, schemaPatternProblems } from '../linear-regexp.ts';
import { ConditionError, compileCondition, conditionNodeRefs } from './condition.ts';
import { ancestors, buildGraph } from './graph.ts';
import { collectTemplates, parseTemplate, TemplateError, templateNodeRefs } from './template.ts';

export type ParseResult =
  | { ok: true; definition: WorkflowDefinition }
  | { ok: false; issues: DefinitionIssue[] };

const zodPath = (path: PropertyKey[]) =>
  path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i ? '.' : ''}${String(p)}`)).join('');

/**
 * Checks a workflow definition, shape and meaning, and reports every problem with the node id and the
 * field: unknown node types, duplicate ids, dangling connections, cycles, unconnected nodes, bad
 * templates, templates or conditions reading nodes that are not upstream, bad conditions, a bad input
 * JSON Schema.
 */
export function parseDefinition(raw: unknown): ParseResult {
  const envelope = definitionEnvelopeSchema.safeParse(raw);
  if (!envelope.success) {
    return {
      ok: false,
      issues: envelope.error.issues.map((i) => ({
        path: zodPath(i.path) || '(definition)',
        message: i.message,
      })),
    };
  }
  const issues: DefinitionIssue[] = [];
  const nodes: WorkflowNode[] = [];
  /** Every node id written, valid node or not, so a connection to an invalid node is not called dangling. */
  const written = new Set<string>();
  const seen = new Set<string>();
  envelope.data.nodes.forEach((rawNode, index) => {
    const id = rawNode && typeof rawNode === 'object' ? (rawNode as { id?: unknown }).id : undefined;
    const nodeId = typeof id === 'string' ? id : undefined;
    const where = nodeId ? `nodes.${nodeId}` : `nodes[${index}]`;
    if (nodeId) {
      if (written.has(nodeId)) {
        issues.push({ nodeId, path: `${where}.id`, message: `duplicate node id "${nodeId}"` });
        return;
      }
      written.add(nodeId);
    }
    const type = rawNode && typeof rawNode === 'object' ? (rawNode as { type?: unknown }).type : undefined;
    if (typeof type !== 'string' || !(NODE_TYPES as readonly string[]).includes(type)) {
      issues.push({
        ...(nodeId ? { nodeId } : {}),
        path: `${where}.type`,
        message: `unknown node type ${JSON.stringify(type)}: use one of ${NODE_TYPES.join(', ')}`,
      });
      return;
    }
    const parsed = workflowNodeSchema.safeParse(rawNode);
    if (!parsed.success) {
      for (const i of parsed.error.issues) {
        issues.push({
          ...(nodeId ? { nodeId } : {}),
          path: `${where}.${zodPath(i.path)}`,
          message: i.message,
        });
      }
      return;
    }
    seen.add(parsed.data.id);
    nodes.push(parsed.data);
  });
  const nodesValid = issues.length === 0;

  // Every later check runs on the nodes that parsed, so one answer lists every problem; checks that
  // need the whole graph (upstream references, unconnected nodes) run only when every node parsed and
  // the graph is acyclic, since otherwise they would report consequences of problems already listed.
  const definition: WorkflowDefinition = { ...envelope.data, nodes };
  issues.push(...checkConnections(definition, written));
  const graph = buildGraph(definition, false);
  const cycles = checkCycles(definition, graph.order);
  issues.push(...cycles);
  const wholeGraph = nodesValid && cycles.length === 0;
  if (wholeGraph) issues.push(...checkUnconnected(definition, graph));
  issues.push(
    ...checkNodes(graph, wholeGraph),
    ...checkModels(definition),
    ...checkConditions(graph, wholeGraph),
    ...checkInputSchema(definition),
    ...checkOutputSchemas(definition),
  );
  return issues.length ? { ok: false, issues } : { ok: true, definition };
}

/** Providers a model id may name: the simulator and every provider an integration can be made for. */
export const MODEL_PROVIDERS: readonly string[] = ['simulator', ...INTEGRATION_PROVIDER_VALUES];

function unknownProvider(model: string): string | undefined {
  const provider = model.slice(0, model.indexOf(':'));
  return MODEL_PROVIDERS.includes(provider)
    ? undefined
    : `unknown provider "${provider}" in ${model}: use one of ${MODEL_PROVIDERS.join(', ')}`;
}

/** Inline agents: a known provider (chat and embedding models) and a prompt that says something. */
function checkModels(def: WorkflowDefinition): DefinitionIssue[] {
  const issues: DefinitionIssue[] = [];
  for (const node of def.nodes) {
    if (node.type !== 'agent' || !node.agent) continue;
    const where = `nodes.${node.id}.agent`;
    const bad = unknownProvider(node.agent.model);
    if (bad) issues.push({ nodeId: node.id, path: `${where}.model`, message: bad });
    const embedding = node.agent.memory?.semantic?.embeddingModel;
    const badEmbedding = embedding ? unknownProvider(embedding) : undefined;
    if (badEmbedding)
      issues.push({
        nodeId: node.id,
        path: `${where}.memory.semantic.embeddingModel`,
        message: badEmbedding,
      });
    if (!node.agent.prompt.trim())
      issues.push({
        nodeId: node.id,
        path: `${where}.prompt`,
        message: 'the prompt is empty: write what the model should do, e.g. "Summarize {{input.text}}"',
      });
  }
  return issues;
}

function checkConnections(def: WorkflowDefinition, ids: ReadonlySet<string>): DefinitionIssue[] {
  const issues: DefinitionIssue[] = [];
  const pairs = new Set<string>();
  def.connections.forEach((c, i) => {
    const path = `connections[${i}]`;
    if (!ids.has(c.from))
      issues.push({ path: `${path}.from`, message: `connection from unknown node "${c.from}"` });
    if (!ids.has(c.to)) issues.push({ path: `${path}.to`, message: `connection to unknown node "${c.to}"` });
    if (c.from === c.to)
      issues.push({ nodeId: c.from, path, message: `node "${c.from}" is connected to itself` });
    const key = `${c.from}->${c.to}`;
    if (pairs.has(key))
      issues.push({ nodeId: c.from, path, message: `duplicate connection ${c.from} → ${c.to}` });
    pairs.add(key);
    const from = def.nodes.find((n) => n.id === c.from);
    if (from?.type === 'output') {
      issues.push({
        nodeId: c.from,
        path,
        message: `output node "${c.from}" cannot have outgoing connections`,
      });
    }
  });
  return issues;
}

function checkCycles(def: WorkflowDefinition, order: string[]): DefinitionIssue[] {
  if (order.length === def.nodes.length) return [];
  const inOrder = new Set(order);
  const stuck = def.nodes.filter((n) => !inOrder.has(n.id)).map((n) => n.id);
  return stuck.map((id) => ({
    nodeId: id,
    path: `nodes.${id}`,
    message: `node "${id}" is on a cycle or downstream of one (${stuck.join(', ')}): workflows must be acyclic`,
  }));
}

function checkUnconnected(def: WorkflowDefinition, graph: ReturnType<typeof buildGraph>): DefinitionIssue[] {
  if (def.nodes.length < 2) return [];
  return def.nodes
    .filter((n) => graph.incoming.get(n.id)!.length === 0 && graph.outgoing.get(n.id)!.length === 0)
    .map((n) => ({
      nodeId: n.id,
      path: `nodes.${n.id}`,
      message: `node "${n.id}" is not connected to the rest of the workflow, so it is unreachable from the other nodes: connect it or remove it`,
    }));
}

/** The fields of a node that hold templates, by their path in the node. */
export function templateFields(node: WorkflowNode): Record<string, unknown> {
  switch (node.type) {
    case 'agent':
      return {
        agent: {
          system: node.agent?.system,
          prompt: node.agent?.prompt,
          memory: { threadKey: node.agent?.memory?.threadKey },
        },
        vars: node.vars,
        forEach: node.forEach,
      };
    case 'output':
      return { value: node.value };
    case 'tool':
      return { input: node.input };
    case 'approval':
      return { message: node.message };
    case 'subworkflow':
      return { input: node.input };
    case 'delay':
      return { until: node.until };
    case 'code':
      return {};
  }
}

function checkNodes(graph: ReturnType<typeof buildGraph>, wholeGraph: boolean): DefinitionIssue[] {
  const issues: DefinitionIssue[] = [];
  for (const node of graph.definition.nodes) {
    const where = `nodes.${node.id}`;
    if (node.type === 'agent' && !node.agent === !node.agentId) {
      issues.push({
        nodeId: node.id,
        path: `${where}.agent`,
        message: 'set exactly one of agent (inline) or agentId',
      });
    }
    if (node.type === 'delay' && (node.durationMs === undefined) === (node.until === undefined)) {
      issues.push({
        nodeId: node.id,
        path: `${where}.durationMs`,
        message: 'set exactly one of durationMs or until',
      });
    }
    const fields = templateFields(node);
    const upstream = wholeGraph ? ancestors(graph, node.id) : new Set<string>();
    for (const { path, template } of collectTemplates(fields)) {
      try {
        parseTemplate(template);
      } catch (e) {
        if (!(e instanceof TemplateError)) throw e;
        issues.push({ nodeId: node.id, path: `${where}.${path}`, message: `bad template: ${e.message}` });
        continue;
      }
      if (!wholeGraph) continue;
      for (const ref of templateNodeRefs(template)) {
        if (!upstream.has(ref)) issues.push(notUpstream(node.id, `${where}.${path}`, ref, graph));
      }
    }
  }
  return issues;
}

function notUpstream(
  nodeId: string,
  path: string,
  ref: string,
  graph: ReturnType<typeof buildGraph>,
): DefinitionIssue {
  const message = graph.nodes.has(ref)
    ? `reads nodes.${ref}, which is not upstream of "${nodeId}": its output may not exist when "${nodeId}" runs; connect ${ref} before ${nodeId}`
    : `reads nodes.${ref}, but there is no node "${ref}"`;
  return { nodeId, path, message };
}

function checkConditions(graph: ReturnType<typeof buildGraph>, wholeGraph: boolean): DefinitionIssue[] {
  const issues: DefinitionIssue[] = [];
  graph.definition.connections.forEach((c, i) => {
    if (!c.condition?.trim()) return;
    const path = `connections[${i}].condition`;
    try {
      compileCondition(c.condition);
    } catch (e) {
      if (!(e instanceof ConditionError)) throw e;
      issues.push({ nodeId: c.from, path, message: `bad condition on ${c.from} → ${c.to}: ${e.message}` });
      return;
    }
    if (!wholeGraph) return;
    const visible = ancestors(graph, c.from).add(c.from);
    for (const ref of conditionNodeRefs(c.condition)) {
      if (!visible.has(ref)) issues.push(notUpstream(c.to, path, ref, graph));
    }
  });
  return issues;
}

const ajv = new Ajv2020({ strict: false, allErrors: true, code: { regExp: linearRegExp } });

function checkInputSchema(def: WorkflowDefinition): DefinitionIssue[] {
  if (!def.input) return [];
  try {
    ajv.compile(def.input);
    return [];
  } catch (e) {
    return [{ path: 'input', message: `not a valid JSON Schema: ${(e as Error).message}` }];
  }
}

/** Structured-output schemas of agent nodes: their patterns must compile on the linear engine. */
function checkOutputSchemas(def: WorkflowDefinition): DefinitionIssue[] {
  return def.nodes.flatMap((node) =>
    node.type === 'agent' && node.agent?.output
      ? schemaPatternProblems(node.agent.output, `nodes.${node.id}.agent.output`).map((p) => ({
          nodeId: node.id,
          ...p,
        }))
      : [],
  );
}
