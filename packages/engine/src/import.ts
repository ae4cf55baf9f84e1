import { AppError } from '@aiops/core';
import { parse as parseYaml } from 'yaml';
import { convertN8n, isN8nWorkflow, type N8nReportEntry, type N8nTriggerSpec } from './import-n8n.ts';

/**
 * `POST /workflows/import` accepts three shapes and turns them into our definition format:
 * - ours (API.md): `{name, nodes, connections, …}`, as JSON or YAML;
 * - seed 000's: `{agents: [{id, name, type, config}], connections: [{from_agent_id, to_agent_id, condition}],
 *   variables, triggers}`;
 * - seed 003's task list: `[{agent_id, task_details: {task_description, context}}]` (a chain), with the
 *   org's agents found by name or by `metadata.catalogId`.
 */
export type ImportShape = 'definition' | 'seed000' | 'tasklist' | 'n8n';

export interface ImportResult {
  shape: ImportShape;
  definition: Record<string, unknown>;
  /** n8n imports: what became of each n8n node. */
  report?: N8nReportEntry[];
  /** n8n imports: the triggers to create with the workflow. */
  triggers?: N8nTriggerSpec[];
}

/** The org agent a seed-003 `agent_id` names, or undefined. */
export type AgentLookup = (ref: string) => Promise<{ id: string } | undefined>;

export function parseDocument(body: unknown): unknown {
  if (typeof body !== 'string') return body;
  try {
    return parseYaml(body, { maxAliasCount: 100 });
  } catch (e) {
    throw new AppError(
      400,
      'invalid_document',
      `The document is neither valid JSON nor valid YAML: ${(e as Error).message}`,
    );
  }
}

const safeId = (raw: string, used: Set<string>) => {
  let id =
    raw
      .replace(/[^A-Za-z0-9_]/g, '_')
      .replace(/^([^A-Za-z_])/, '_$1')
      .slice(0, 60) || 'node';
  const base = id;
  for (let i = 2; used.has(id); i++) id = `${base}_${i}`;
  used.add(id);
  return id;
};

/** Maps a bare model name of seed 000/003 (`gpt-4`, `claude-3-5-sonnet…`) to `provider:model`. */
export function qualifyModel(model: unknown): string {
  const m = typeof model === 'string' && model.trim() ? model.trim() : 'gpt-4';
  if (/^[a-z0-9][a-z0-9_-]*:/.test(m)) return m;
  if (/^claude/i.test(m)) return `anthropic:${m}`;
  if (/^gemini/i.test(m)) return `google:${m}`;
  if (/^grok/i.test(m)) return `xai:${m}`;
  if (/^command/i.test(m)) return `cohere:${m}`;
  if (/^(sonar|pplx)/i.test(m)) return `perplexity:${m}`;
  if (/^(llama|mistral|qwen|phi|gemma)/i.test(m)) return `ollama:${m}`;
  return `openai:${m}`;
}

function fromSeed000(doc: Record<string, unknown>, name: string): Record<string, unknown> {
  const agents = doc.agents as Record<string, unknown>[];
  const used = new Set<string>();
  const ids = new Map<string, string>();
  const nodes = agents.map((a, i) => {
    const config = (a.config ?? a.configuration ?? {}) as Record<string, unknown>;
    const settings = (config.model_settings ?? {}) as Record<string, unknown>;
    const original = String(a.id ?? a.name ?? `agent_${i + 1}`);
    const id = safeId(String(a.name ?? original), used);
    ids.set(original, id);
    if (a.name) ids.set(String(a.name), id);
    return {
      id,
      type: 'agent',
      name: a.name ?? id,
      agent: {
        model: qualifyModel(settings.model ?? a.model_name),
        prompt: String(config.prompt_template ?? a.prompt_template ?? '{{input}}'),
        ...(typeof settings.temperature === 'number' ? { temperature: settings.temperature } : {}),
        ...(typeof settings.max_tokens === 'number' ? { maxTokens: settings.max_tokens } : {}),
      },
      ...(a.position && typeof a.position === 'object' ? { position: a.position } : {}),
    };
  });
  const connections = ((doc.connections ?? []) as Record<string, unknown>[]).map((c) => ({
    from: ids.get(String(c.from_agent_id)) ?? String(c.from_agent_id),
    to: ids.get(String(c.to_agent_id)) ?? String(c.to_agent_id),
    ...(typeof c.condition === 'string' && c.condition.trim() ? { condition: c.condition } : {}),
  }));
  const variables = doc.variables && typeof doc.variables === 'object' ? doc.variables : undefined;
  return {
    name,
    ...(doc.description ? { description: doc.description } : {}),
    nodes,
    connections,
    ...(variables ? { variables } : {}),
  };
}

async function fromTaskList(tasks: Record<string, unknown>[], name: string, lookup: AgentLookup) {
  const used = new Set<string>();
  const missing: string[] = [];
  const nodes: Record<string, unknown>[] = [];
  for (const [i, t] of tasks.entries()) {
    const ref = String(t.agent_id ?? '');
    const agent = ref ? await lookup(ref) : undefined;
    if (!agent) {
      missing.push(ref || `(task ${i + 1} has no agent_id)`);
      continue;
    }
    const details = (t.task_details ?? {}) as Record<string, unknown>;
    const context = details.context ? `\n\nContext: ${JSON.stringify(details.context)}` : '';
    const previous = nodes.at(-1);
    nodes.push({
      id: safeId(`${ref}_${i + 1}`, used),
      type: 'agent',
      agentId: agent.id,
      vars: {
        task: `${String(details.task_description ?? '')}${context}${previous ? `\n\nPrevious result: {{nodes.${previous.id}.output}}` : ''}`,
      },
    });
  }
  if (missing.length) {
    throw new AppError(
      400,
      'agent_not_found',
      `The task list uses agents this organization does not have: ${missing.join(', ')}. Create them first (by that name, or with metadata.catalogId).`,
      {
        details: { missing },
      },
    );
  }
  const connections = nodes.slice(1).map((n, i) => ({ from: nodes[i]!.id, to: n.id }));
  return { name, nodes, connections };
}

/** Recognizes the shape of an imported document and converts it to our definition format. */
export async function convertImport(
  raw: unknown,
  lookup: AgentLookup,
  nameOverride?: string,
): Promise<ImportResult> {
  const doc = parseDocument(raw);
  if (Array.isArray(doc)) {
    if (!doc.every((t) => t && typeof t === 'object' && 'agent_id' in t)) {
      throw new AppError(400, 'invalid_document', 'A list must be a task list: [{agent_id, task_details}]');
    }
    return {
      shape: 'tasklist',
      definition: await fromTaskList(
        doc as Record<string, unknown>[],
        nameOverride ?? `Imported task list ${new Date().toISOString().slice(0, 19)}`,
        lookup,
      ),
    };
  }
  if (!doc || typeof doc !== 'object') {
    throw new AppError(
      400,
      'invalid_document',
      'Send a workflow definition, a seed-000 workflow (agents + connections) or a task list',
    );
  }
  const d = doc as Record<string, unknown>;
  if (isN8nWorkflow(d)) {
    const n8n = convertN8n(d, nameOverride ?? String(d.name ?? 'Imported n8n workflow').slice(0, 255));
    return { shape: 'n8n', definition: n8n.definition, report: n8n.report, triggers: n8n.triggers };
  }
  const inner = (d.definition && typeof d.definition === 'object' ? d.definition : d) as Record<
    string,
    unknown
  >;
  const name = nameOverride ?? String(d.name ?? inner.name ?? 'Imported workflow');
  if (Array.isArray(inner.agents) && !Array.isArray(inner.nodes))
    return { shape: 'seed000', definition: fromSeed000(inner, name) };
  if (Array.isArray(inner.tasks))
    return {
      shape: 'tasklist',
      definition: await fromTaskList(inner.tasks as Record<string, unknown>[], name, lookup),
    };
  return { shape: 'definition', definition: { ...inner, name } };
}
