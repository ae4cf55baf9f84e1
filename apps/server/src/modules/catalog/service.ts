import { type AgentTypeDto, createAgentBodySchema, type InstantiateAgentTypeBody } from '@aiops/contracts';
import { badRequest, notFound, type SecretBox } from '@aiops/core';
import type { FastifyRequest } from 'fastify';
import { createAgent } from '../agents/service.ts';

/** The loaded catalog: read once at start, immutable afterwards. */
export class AgentCatalog {
  private readonly byId: Map<string, AgentTypeDto>;
  constructor(readonly types: AgentTypeDto[]) {
    this.byId = new Map(types.map((t) => [t.id, t]));
  }

  list(q: { category?: string | undefined; capability?: string | undefined; q?: string | undefined }) {
    const text = q.q?.toLowerCase();
    return this.types.filter(
      (t) =>
        (!q.category || t.category === q.category) &&
        (!q.capability || t.capabilities.includes(q.capability)) &&
        (!text ||
          t.name.toLowerCase().includes(text) ||
          (t.description ?? '').toLowerCase().includes(text) ||
          t.capabilities.some((c) => c.includes(text))),
    );
  }

  categories(): string[] {
    return [...new Set(this.types.map((t) => t.category))].sort();
  }

  get(id: string): AgentTypeDto {
    const t = this.byId.get(id);
    if (!t) throw notFound('Agent type', id);
    return t;
  }
}

/** `{{params.name}}` placeholders filled with the given values (other placeholders stay for run time). */
export function fillParams(text: string, params: Record<string, string>): string {
  return text.replace(/\{\{\s*params\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g, (whole, key: string) =>
    Object.hasOwn(params, key) ? params[key]! : whole,
  );
}

/**
 * The agent a type makes: the type's fields, then its `default_config`, then what the caller gives; every
 * required param must be given (a 400 names the missing ones).
 */
export function agentFromType(type: AgentTypeDto, body: InstantiateAgentTypeBody) {
  const missing = type.requiredParams.map((p) => p.name).filter((n) => !body.params[n]?.trim());
  if (missing.length) {
    throw badRequest(
      `Agent type ${type.id} needs these params: ${missing.join(', ')} (send them in body.params)`,
      {
        missing,
        issues: missing.map((n) => ({ path: `body.params.${n}`, message: 'required by the agent type' })),
      },
    );
  }
  const d = type.defaultConfig as {
    temperature?: number;
    top_p?: number;
    max_tokens?: number;
    prompt_template?: string;
    tools?: string[];
    cost_limit_per_request?: number;
    memory_config?: Record<string, unknown>;
  };
  const c = body.config;
  const pick = <T>(...values: (T | null | undefined)[]) => values.find((v) => v !== undefined && v !== null);
  return createAgentBodySchema.parse({
    name: body.name,
    description: body.description ?? type.description,
    type: 'specialist',
    model: c.model ?? type.model,
    temperature: pick(c.temperature, d.temperature, type.temperature),
    topP: pick(c.topP, d.top_p),
    maxTokens: pick(c.maxTokens, d.max_tokens, type.maxTokens),
    systemPrompt: fillParams(c.systemPrompt ?? type.systemPrompt, body.params),
    promptTemplate: fillParams(c.promptTemplate ?? d.prompt_template ?? '{{input.text}}', body.params),
    tools: c.tools ?? d.tools ?? [],
    ...(d.memory_config ? { memoryConfig: d.memory_config } : {}),
    costLimitPerRequest: pick(c.costLimitPerRequest, d.cost_limit_per_request),
    integrationId: c.integrationId,
    metadata: {
      agentType: { id: type.id, version: type.version, category: type.category },
      params: body.params,
    },
  });
}

export function instantiate(
  request: FastifyRequest,
  secrets: SecretBox,
  type: AgentTypeDto,
  body: InstantiateAgentTypeBody,
) {
  return createAgent(request, secrets, agentFromType(type, body));
}
