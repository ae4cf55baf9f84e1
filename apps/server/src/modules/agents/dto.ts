import type { AgentDto } from '@aiops/contracts';
import type { AgentRow, AgentVersionRow } from '@aiops/engine';
import { fieldsOf } from '@aiops/engine';

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function agentDto(row: AgentRow, webhookSecret?: string): AgentDto {
  const f = fieldsOf(row);
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    kind: row.kind,
    type: row.type,
    status: row.status,
    framework: row.framework,
    version: row.version,
    versionNumber: row.versionNumber,
    model: f.model,
    temperature: f.temperature ?? null,
    topP: f.topP ?? null,
    maxTokens: f.maxTokens ?? null,
    systemPrompt: f.systemPrompt ?? null,
    promptTemplate: f.promptTemplate,
    outputSchema: f.outputSchema ?? null,
    code: f.code ?? null,
    tools: row.tools,
    toolConfigs: row.toolConfigs,
    memoryConfig: row.memoryConfig,
    integrationId: f.integrationId ?? null,
    simulate: (f.simulate as Record<string, unknown> | null) ?? null,
    costLimitPerRequest: f.costLimitPerRequest ?? null,
    webhookUrl: row.webhookUrl,
    webhookSecretHint: row.webhookSecretHint,
    ...(webhookSecret ? { webhookSecret } : {}),
    schedule: row.schedule,
    lastHeartbeatAt: iso(row.lastHeartbeatAt),
    resourceLimits: row.resourceLimits,
    metadata: row.metadata,
    enabled: row.enabled,
    createdBy: row.createdBy,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

export function agentVersionDto(v: AgentVersionRow) {
  return {
    id: v.id,
    agentId: v.agentId,
    versionNumber: v.versionNumber,
    version: v.version,
    name: v.name,
    configuration: v.configuration as unknown as Record<string, unknown>,
    createdBy: v.createdBy,
    createdAt: v.createdAt.toISOString(),
  };
}
