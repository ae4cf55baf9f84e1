import type { CreateAgentBody, UpdateAgentBody } from '@aiops/contracts';
import { badRequest, conflict, notFound } from '@aiops/core';
import { type AgentConfiguration, agents, agentVersions, type Tx } from '@aiops/db';
import { and, desc, eq, isNull } from 'drizzle-orm';

export type AgentRow = typeof agents.$inferSelect;
export type AgentVersionRow = typeof agentVersions.$inferSelect;

/** What a run needs of an agent, from its fields. */
export function configurationOf(a: CreateAgentBody): AgentConfiguration {
  return {
    modelSettings: {
      model: a.model,
      ...(a.temperature != null ? { temperature: a.temperature } : {}),
      ...(a.topP != null ? { topP: a.topP } : {}),
      ...(a.maxTokens != null ? { maxTokens: a.maxTokens } : {}),
    },
    ...(a.systemPrompt != null ? { systemPrompt: a.systemPrompt } : {}),
    promptTemplate: a.promptTemplate,
    ...(a.outputSchema != null ? { outputSchema: a.outputSchema } : {}),
    ...(a.kind === 'code' && a.code ? { code: a.code } : {}),
    tools: a.tools,
    toolConfigs: a.toolConfigs,
    memoryConfig: a.memoryConfig,
    ...(a.integrationId != null ? { integrationId: a.integrationId } : {}),
    ...(a.simulate != null ? { simulate: a.simulate as Record<string, unknown> } : {}),
    ...(a.costLimitPerRequest != null ? { costLimitPerRequest: a.costLimitPerRequest } : {}),
  } as AgentConfiguration;
}

/** The agent's editable fields back from its row (for updates that change only some of them). */
export function fieldsOf(row: AgentRow): CreateAgentBody {
  const c = row.configuration;
  return {
    name: row.name,
    description: row.description,
    kind: row.kind,
    type: row.type,
    status: row.status,
    framework: row.framework,
    model: c.modelSettings.model,
    temperature: c.modelSettings.temperature ?? null,
    topP: c.modelSettings.topP ?? null,
    maxTokens: c.modelSettings.maxTokens ?? null,
    systemPrompt: c.systemPrompt ?? null,
    promptTemplate: c.promptTemplate,
    outputSchema: c.outputSchema ?? null,
    code: c.code ?? null,
    tools: row.tools,
    toolConfigs: row.toolConfigs,
    memoryConfig: row.memoryConfig,
    integrationId: c.integrationId ?? null,
    simulate: (c.simulate as CreateAgentBody['simulate']) ?? null,
    costLimitPerRequest: row.costLimitPerRequest === null ? null : Number(row.costLimitPerRequest),
    webhookUrl: row.webhookUrl,
    schedule: row.schedule,
    resourceLimits: row.resourceLimits,
    metadata: row.metadata,
    enabled: row.enabled,
  };
}

/** An agent's kind is honoured: a code agent without code is refused rather than run as a model call. */
function checkKind(a: CreateAgentBody): void {
  if (a.kind === 'code' && !a.code) {
    throw badRequest(
      'code: a code agent needs its code, e.g. { "language": "javascript", "code": "return input" }',
      {
        field: 'code',
      },
    );
  }
}

function columns(a: CreateAgentBody) {
  checkKind(a);
  return {
    name: a.name,
    description: a.description ?? null,
    kind: a.kind,
    type: a.type,
    status: a.status,
    framework: a.framework ?? null,
    configuration: configurationOf(a),
    modelName: a.model,
    temperature: a.temperature ?? null,
    maxTokens: a.maxTokens ?? null,
    tools: a.tools,
    toolConfigs: a.toolConfigs,
    memoryConfig: a.memoryConfig,
    costLimitPerRequest: a.costLimitPerRequest == null ? null : String(a.costLimitPerRequest),
    webhookUrl: a.webhookUrl ?? null,
    schedule: a.schedule ?? null,
    resourceLimits: a.resourceLimits ?? null,
    metadata: a.metadata,
    enabled: a.enabled,
  };
}

/** A template's limits stay on an agent made from it, whatever a save changes. */
function keepTemplate(cols: ReturnType<typeof columns>, current: AgentRow) {
  const template = current.configuration.template;
  return template ? { ...cols, configuration: { ...cols.configuration, template } } : cols;
}

const bump = (semver: string) => {
  const [major = 1, minor = 0, patch = 0] = semver.split('.').map((n) => Number.parseInt(n, 10) || 0);
  return `${major}.${minor}.${patch + 1}`;
};

const taken = (name: string) => conflict(`An agent named "${name}" already exists: choose another name`);
const isUnique = (e: unknown) => {
  const err = e as { code?: string; cause?: { code?: string } };
  return err?.code === '23505' || err?.cause?.code === '23505';
};

export async function createAgent(
  tx: Tx,
  organizationId: string,
  body: CreateAgentBody,
  userId: string | null,
): Promise<AgentRow> {
  let row: AgentRow;
  try {
    [row] = (await tx
      .insert(agents)
      .values({
        organizationId,
        ...columns(body),
        version: '1.0.0',
        versionNumber: 1,
        createdBy: userId,
        updatedBy: userId,
      })
      .returning()) as [AgentRow];
  } catch (e) {
    if (isUnique(e)) throw taken(body.name);
    throw e;
  }
  await tx.insert(agentVersions).values({
    organizationId,
    agentId: row.id,
    versionNumber: 1,
    version: row.version,
    name: row.name,
    kind: row.kind,
    configuration: row.configuration,
    createdBy: userId,
  });
  return row;
}

export async function getAgent(tx: Tx, id: string): Promise<AgentRow> {
  const [row] = await tx
    .select()
    .from(agents)
    .where(and(eq(agents.id, id), isNull(agents.deletedAt)));
  if (!row) throw notFound('Agent', id);
  return row;
}

/** Saves changed fields as the next version (semantic version patch bump). */
export async function updateAgent(
  tx: Tx,
  id: string,
  patch: UpdateAgentBody,
  userId: string | null,
): Promise<AgentRow> {
  const [current] = await tx
    .select()
    .from(agents)
    .where(and(eq(agents.id, id), isNull(agents.deletedAt)))
    .for('update');
  if (!current) throw notFound('Agent', id);
  const merged = {
    ...fieldsOf(current),
    ...Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)),
  } as CreateAgentBody;
  const versionNumber = current.versionNumber + 1;
  const version = bump(current.version);
  let row: AgentRow;
  try {
    [row] = (await tx
      .update(agents)
      .set({
        ...keepTemplate(columns(merged), current),
        version,
        versionNumber,
        updatedBy: userId,
        updatedAt: new Date(),
      })
      .where(eq(agents.id, id))
      .returning()) as [AgentRow];
  } catch (e) {
    if (isUnique(e)) throw taken(merged.name);
    throw e;
  }
  await tx.insert(agentVersions).values({
    organizationId: row.organizationId,
    agentId: id,
    versionNumber,
    version,
    name: row.name,
    kind: row.kind,
    configuration: row.configuration,
    createdBy: userId,
  });
  return row;
}

export async function deleteAgent(tx: Tx, id: string): Promise<AgentRow> {
  const [row] = await tx
    .update(agents)
    .set({ deletedAt: new Date(), status: 'inactive' })
    .where(and(eq(agents.id, id), isNull(agents.deletedAt)))
    .returning();
  if (!row) throw notFound('Agent', id);
  return row;
}

export async function listAgentVersions(tx: Tx, id: string): Promise<AgentVersionRow[]> {
  await getAgent(tx, id);
  return tx
    .select()
    .from(agentVersions)
    .where(eq(agentVersions.agentId, id))
    .orderBy(desc(agentVersions.versionNumber));
}
