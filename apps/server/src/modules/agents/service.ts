import { type CreateAgentBody, memoryConfigSchema, type UpdateAgentBody } from '@aiops/contracts';
import {
  AppError,
  badRequest,
  isAppError,
  type ModelPort,
  renderString,
  type SecretBox,
  schemaPatternProblems,
  validationFailed,
} from '@aiops/core';
import { agents, type Tx } from '@aiops/db';
import * as engine from '@aiops/engine';
import { and, desc, eq, isNull, type SQL, sql } from 'drizzle-orm';
import type { FastifyRequest } from 'fastify';
import { authOf } from '../../http/auth.ts';
import { after, cursorTime, page } from '../../http/pagination.ts';
import { audit, tenant } from '../../http/tenant.ts';
import { refuseUnsafeOutbound } from '../../services/outbound.ts';
import { findIntegration } from '../integrations/repo.ts';
import { type AgentCall, recordAgentCall } from './calls.ts';
import { agentDto, agentVersionDto } from './dto.ts';

export async function listAgents(
  request: FastifyRequest,
  q: {
    limit: number;
    cursor?: string | undefined;
    q?: string | undefined;
    status?: string | undefined;
    type?: string | undefined;
  },
) {
  return tenant(request, async (tx) => {
    const conditions: (SQL | undefined)[] = [
      isNull(agents.deletedAt),
      after(agents.createdAt, agents.id, q.cursor),
    ];
    if (q.status) conditions.push(eq(agents.status, q.status as never));
    if (q.type) conditions.push(eq(agents.type, q.type as never));
    if (q.q) conditions.push(sql`(${agents.name} ILIKE ${`%${q.q}%`} OR ${agents.name} % ${q.q})`);
    const rows = await tx
      .select({ row: agents, id: agents.id, cursorT: cursorTime(agents.createdAt) })
      .from(agents)
      .where(and(...conditions))
      .orderBy(desc(agents.createdAt), desc(agents.id))
      .limit(q.limit + 1);
    const p = page(rows, q.limit);
    return { data: p.data.map((r) => agentDto(r.row)), nextCursor: p.nextCursor };
  });
}

/**
 * An agent's integration must be one of the organization's, for the provider of the agent's model (checked
 * at save time rather than at the first run).
 */
export async function checkIntegration(tx: Tx, integrationId: string | null | undefined, model: string) {
  if (!integrationId) return;
  const row = await findIntegration(tx, integrationId);
  if (!row)
    throw badRequest(`integrationId ${integrationId} is not an integration of this organization`, {
      issues: [{ path: 'body.integrationId', message: 'no such integration' }],
    });
  const provider = model.slice(0, model.indexOf(':'));
  if (row.provider !== provider)
    throw badRequest(
      `integration "${row.name}" is for ${row.provider}, but the model ${model} is ${provider}: pick a ${provider} integration or change the model`,
      { issues: [{ path: 'body.integrationId', message: `not a ${provider} integration` }] },
    );
}

/** A structured-output schema's patterns must compile on the linear-time engine (checked at save). */
function checkOutputSchema(schema: Record<string, unknown> | null | undefined) {
  const issues = schema ? schemaPatternProblems(schema, 'body.outputSchema') : [];
  if (issues.length > 0) {
    throw validationFailed(
      `Invalid request: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
      issues,
    );
  }
}

/**
 * An external agent with a webhook_url signs every call to it (scheduled calls and workflow steps): the
 * first time it has a URL without a secret, one is made here and returned once.
 */
async function withSigningSecret(tx: Tx, secrets: SecretBox, row: engine.AgentRow) {
  if (row.kind !== 'external' || !row.webhookUrl || row.webhookSecretEncrypted) return { row };
  const made = engine.newAgentWebhookSecret(secrets, row.id);
  const [after] = await tx.update(agents).set(made.columns).where(eq(agents.id, row.id)).returning();
  return { row: after!, secret: made.secret };
}

export function createAgent(request: FastifyRequest, secrets: SecretBox, body: CreateAgentBody) {
  const auth = authOf(request);
  checkOutputSchema(body.outputSchema);
  return tenant(request, async (tx) => {
    await checkIntegration(tx, body.integrationId, body.model);
    await refuseUnsafeOutbound(tx, request, { toolConfigs: body.toolConfigs });
    const { row, secret } = await withSigningSecret(
      tx,
      secrets,
      await engine.createAgent(tx, auth.organizationId, body, auth.userId),
    );
    const dto = agentDto(row);
    await audit(tx, request, { entityType: 'agent', entityId: row.id, action: 'created', after: dto });
    return agentDto(row, secret);
  });
}

export function getAgent(request: FastifyRequest, id: string) {
  return tenant(request, async (tx) => agentDto(await engine.getAgent(tx, id)));
}

export function updateAgent(request: FastifyRequest, secrets: SecretBox, id: string, body: UpdateAgentBody) {
  checkOutputSchema(body.outputSchema);
  return tenant(request, async (tx) => {
    const before = agentDto(await engine.getAgent(tx, id));
    if (body.integrationId !== undefined || body.model !== undefined)
      await checkIntegration(
        tx,
        body.integrationId !== undefined ? body.integrationId : before.integrationId,
        body.model ?? before.model,
      );
    if (body.toolConfigs !== undefined)
      await refuseUnsafeOutbound(tx, request, { toolConfigs: body.toolConfigs });
    const { row, secret } = await withSigningSecret(
      tx,
      secrets,
      await engine.updateAgent(tx, id, body, authOf(request).userId),
    );
    const dto = agentDto(row);
    await audit(tx, request, { entityType: 'agent', entityId: id, action: 'updated', before, after: dto });
    return agentDto(row, secret);
  });
}

export function deleteAgent(request: FastifyRequest, id: string) {
  return tenant(request, async (tx) => {
    const before = agentDto(await engine.getAgent(tx, id));
    const dto = agentDto(await engine.deleteAgent(tx, id));
    await audit(tx, request, { entityType: 'agent', entityId: id, action: 'deleted', before });
    return dto;
  });
}

export function listVersions(request: FastifyRequest, id: string) {
  return tenant(request, async (tx) => (await engine.listAgentVersions(tx, id)).map(agentVersionDto));
}

/** One call of the agent with the given input, as a workflow step would make it (studio try-it panel). */
export async function tryAgent(
  request: FastifyRequest,
  model: ModelPort,
  id: string,
  body: { input: Record<string, unknown>; variables: Record<string, unknown> },
) {
  const auth = authOf(request);
  const row = await tenant(request, (tx) => engine.getAgent(tx, id));
  if (row.kind !== 'llm')
    throw new AppError(
      400,
      'agent_not_a_model',
      `This is a ${row.kind} agent, not a model call: test a code agent's code with POST /code/test`,
    );
  const c = row.configuration;
  engine.checkTemplateLimits(c);
  const costLimit = engine.templateCostLimit(c);
  if (costLimit !== undefined && costLimit <= 0)
    throw new AppError(
      402,
      'budget_exceeded',
      'The cost limit per request of this agent is 0: no call is made',
      {
        retryable: false,
        details: { budgetUsd: costLimit },
      },
    );
  const context = { input: body.input, variables: body.variables, nodes: {}, vars: {}, run: {} };
  const text = (v: unknown) =>
    v === null || v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v);
  const prompt = text(renderString(c.promptTemplate, context));
  let system = c.systemPrompt === undefined ? null : text(renderString(c.systemPrompt, context));
  // The glossary as a run injects it (engine agent node): the organization's public terms the prompt
  // uses, counted as used; the tenant has no user, so private terms stay out exactly as in a run.
  const glossaryConfig = memoryConfigSchema.safeParse(c.memoryConfig).data?.glossary;
  if (glossaryConfig?.enabled) {
    const { db } = request.server;
    const glossary = await db.withTenant(auth.organizationId, (tx) =>
      engine.glossaryFor(db.embeddings, tx, prompt, glossaryConfig.tokenBudget, 'agent'),
    );
    if (glossary.block) system = system ? `${system}\n\n${glossary.block}` : glossary.block;
  }
  const started = Date.now();
  // The call is a result of the agent (agent-scoped alert rules, `agent_calls`), failed or not.
  const record = (call: Pick<AgentCall, 'failed' | 'errorCode' | 'model' | 'durationMs' | 'cost'>) =>
    tenant(request, (tx) =>
      recordAgentCall(tx, { organizationId: auth.organizationId, agentId: id, source: 'try', ...call }),
    );
  let res: Awaited<ReturnType<ModelPort['call']>>;
  try {
    res = await model.call({
      model: c.modelSettings.model,
      ...(system !== null ? { system } : {}),
      prompt,
      ...(c.modelSettings.temperature !== undefined ? { temperature: c.modelSettings.temperature } : {}),
      ...(c.modelSettings.topP !== undefined ? { topP: c.modelSettings.topP } : {}),
      ...(c.modelSettings.maxTokens !== undefined ? { maxTokens: c.modelSettings.maxTokens } : {}),
      ...(c.outputSchema ? { outputSchema: c.outputSchema } : {}),
      ...(c.integrationId ? { integrationId: c.integrationId } : {}),
      ...(c.simulate ? { simulate: c.simulate as never } : {}),
      ...(costLimit !== undefined ? { budgetUsd: costLimit } : {}),
      attempt: 1,
      idempotencyKey: `try:${id}:${request.id}`,
      organizationId: auth.organizationId,
      signal: AbortSignal.timeout(120_000),
    });
  } catch (e) {
    await record({
      failed: true,
      errorCode: isAppError(e) ? e.code : 'model_call_failed',
      model: c.modelSettings.model,
      durationMs: Date.now() - started,
      cost: '0',
    }).catch((err) => request.log.error({ err }, 'a failed try of an agent could not be recorded'));
    throw e;
  }
  const durationMs = Date.now() - started;
  await record({
    failed: false,
    errorCode: null,
    model: res.model,
    durationMs,
    cost: res.costUsdDecimal ?? String(res.costUsd ?? 0),
  });
  if (c.template) {
    const templateId = c.template.id;
    await tenant(request, (tx) => tx.execute(sql`SELECT aiops_count_template_use(${templateId}::uuid)`));
  }
  return {
    output: res.output !== undefined ? res.output : res.text,
    text: res.text,
    model: res.model,
    prompt,
    system,
    tokens: {
      input: res.usage.inputTokens,
      output: res.usage.outputTokens,
      total: res.usage.totalTokens,
      estimated: res.usage.estimated,
    },
    cost: res.costUsd,
    durationMs,
  };
}
