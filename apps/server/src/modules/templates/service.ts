import {
  type CreateTemplateBody,
  createAgentBodySchema,
  type templateFromAgentBodySchema,
  type templateToAgentBodySchema,
  type UpdateTemplateBody,
} from '@aiops/contracts';
import { badRequest, conflict, notFound } from '@aiops/core';
import {
  type AgentTemplateLimits,
  agents,
  agentVersions,
  aiTemplates,
  aiTemplateVersions,
  marketplaceListings,
  type TemplateContent,
  type Tx,
  templatePurchases,
} from '@aiops/db';
import * as engine from '@aiops/engine';
import { and, desc, eq, type SQL } from 'drizzle-orm';
import type { FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { authOf } from '../../http/auth.ts';
import { after, cursorTime, page } from '../../http/pagination.ts';
import { audit, tenant } from '../../http/tenant.ts';
import { agentDto } from '../agents/dto.ts';
import { checkIntegration } from '../agents/service.ts';
import { contentOf, type TemplateRow, templateDto } from './dto.ts';

const providerOf = (model: string) => model.slice(0, model.indexOf(':'));

export async function findTemplate(tx: Tx, id: string): Promise<TemplateRow> {
  const [row] = await tx.select().from(aiTemplates).where(eq(aiTemplates.id, id));
  if (!row) throw notFound('Template', id);
  return row;
}

export async function listingOf(tx: Tx, templateId: string) {
  const [l] = await tx
    .select()
    .from(marketplaceListings)
    .where(eq(marketplaceListings.templateId, templateId));
  return l ?? null;
}

/** A new template (version 1) and its first version row, in the caller's transaction. */
export async function insertTemplate(
  tx: Tx,
  organizationId: string,
  userId: string | null,
  values: Omit<typeof aiTemplates.$inferInsert, 'organizationId' | 'userId' | 'version'>,
): Promise<TemplateRow> {
  const [row] = (await tx
    .insert(aiTemplates)
    .values({ ...values, organizationId, userId, version: 1 })
    .returning()) as [TemplateRow];
  await tx.insert(aiTemplateVersions).values({
    organizationId,
    templateId: row.id,
    version: 1,
    content: contentOf(row),
    createdBy: userId,
  });
  return row;
}

const bodyColumns = (b: Partial<CreateTemplateBody>) =>
  Object.fromEntries(Object.entries(b).filter(([, v]) => v !== undefined)) as Partial<TemplateRow>;

export function createTemplate(request: FastifyRequest, body: CreateTemplateBody) {
  const auth = authOf(request);
  return tenant(request, async (tx) => {
    const row = await insertTemplate(tx, auth.organizationId, auth.userId, {
      ...bodyColumns(body),
      name: body.name,
      systemPrompt: body.systemPrompt,
      costLimitPerRequest: body.costLimitPerRequest ?? null,
    });
    const dto = templateDto(row);
    await audit(tx, request, { entityType: 'template', entityId: row.id, action: 'created', after: dto });
    return dto;
  });
}

export function listTemplates(request: FastifyRequest, q: { limit: number; cursor?: string | undefined }) {
  return tenant(request, async (tx) => {
    const conditions: (SQL | undefined)[] = [
      eq(aiTemplates.organizationId, authOf(request).organizationId),
      after(aiTemplates.createdAt, aiTemplates.id, q.cursor),
    ];
    const rows = await tx
      .select({
        row: aiTemplates,
        listing: marketplaceListings,
        id: aiTemplates.id,
        cursorT: cursorTime(aiTemplates.createdAt),
      })
      .from(aiTemplates)
      .leftJoin(marketplaceListings, eq(marketplaceListings.templateId, aiTemplates.id))
      .where(and(...conditions))
      .orderBy(desc(aiTemplates.createdAt), desc(aiTemplates.id))
      .limit(q.limit + 1);
    const p = page(rows, q.limit);
    return { data: p.data.map((r) => templateDto(r.row, r.listing)), nextCursor: p.nextCursor };
  });
}

export function getTemplate(request: FastifyRequest, id: string) {
  return tenant(request, async (tx) => templateDto(await findTemplate(tx, id), await listingOf(tx, id)));
}

/** Saves the changes as the template's next version. */
export async function saveVersion(
  tx: Tx,
  current: TemplateRow,
  patch: Partial<TemplateRow>,
  userId: string | null,
): Promise<TemplateRow> {
  const version = current.version + 1;
  const [row] = (await tx
    .update(aiTemplates)
    .set({ ...patch, version, updatedAt: new Date() })
    .where(eq(aiTemplates.id, current.id))
    .returning()) as [TemplateRow];
  await tx.insert(aiTemplateVersions).values({
    organizationId: row.organizationId,
    templateId: row.id,
    version,
    content: contentOf(row),
    createdBy: userId,
  });
  return row;
}

export function updateTemplate(request: FastifyRequest, id: string, body: UpdateTemplateBody) {
  return tenant(request, async (tx) => {
    const current = await findTemplate(tx, id);
    if (
      current.sourceListingId &&
      (body.allowedIntegrations !== undefined || body.costLimitPerRequest !== undefined)
    ) {
      throw badRequest(
        'allowedIntegrations and costLimitPerRequest of a bought template are set by its seller: leave them out',
        { issues: [{ path: 'body.allowedIntegrations', message: 'set by the seller' }] },
      );
    }
    const before = templateDto(current);
    const row = await saveVersion(tx, current, bodyColumns(body), authOf(request).userId);
    const dto = templateDto(row, await listingOf(tx, id));
    await audit(tx, request, { entityType: 'template', entityId: id, action: 'updated', before, after: dto });
    return dto;
  });
}

export function deleteTemplate(request: FastifyRequest, id: string) {
  return tenant(request, async (tx) => {
    const row = await findTemplate(tx, id);
    const listing = await listingOf(tx, id);
    if (listing?.status === 'published')
      throw conflict('The template is published on the marketplace: unpublish it first');
    if (listing) {
      const [sold] = await tx
        .select({ id: templatePurchases.id })
        .from(templatePurchases)
        .where(eq(templatePurchases.listingId, listing.id))
        .limit(1);
      if (sold)
        throw conflict(
          'The template has been sold: it stays (unpublished) so its buyers keep their purchases',
        );
    }
    await tx.delete(aiTemplates).where(eq(aiTemplates.id, id));
    const dto = templateDto(row, listing);
    await audit(tx, request, { entityType: 'template', entityId: id, action: 'deleted', before: dto });
    return dto;
  });
}

export function listTemplateVersions(request: FastifyRequest, id: string) {
  return tenant(request, async (tx) => {
    await findTemplate(tx, id);
    const rows = await tx
      .select()
      .from(aiTemplateVersions)
      .where(eq(aiTemplateVersions.templateId, id))
      .orderBy(desc(aiTemplateVersions.version));
    return rows.map((v) => ({
      version: v.version,
      content: v.content as unknown as Record<string, unknown>,
      createdBy: v.createdBy,
      createdAt: v.createdAt.toISOString(),
    }));
  });
}

/** An agent packaged as a template (toolConfigs stay behind: they may hold credentials). */
export function templateFromAgent(
  request: FastifyRequest,
  body: z.infer<typeof templateFromAgentBodySchema>,
) {
  const auth = authOf(request);
  return tenant(request, async (tx) => {
    const a = agentDto(await engine.getAgent(tx, body.agentId));
    const meta = (a.metadata.template ?? {}) as {
      personalityConfig?: Record<string, unknown>;
      knowledgeSources?: unknown[];
    };
    const agentType = a.metadata.agentType as { category?: string } | undefined;
    const modelConfig = Object.fromEntries(
      Object.entries({
        model: a.model,
        temperature: a.temperature,
        topP: a.topP,
        maxTokens: a.maxTokens,
        outputSchema: a.outputSchema,
      }).filter(([, v]) => v !== null && v !== undefined),
    );
    const row = await insertTemplate(tx, auth.organizationId, auth.userId, {
      name: body.name ?? a.name,
      description: a.description,
      category: body.category !== undefined ? body.category : (agentType?.category ?? null),
      capabilities: body.capabilities ?? [],
      systemPrompt: a.systemPrompt ?? '',
      promptTemplate: a.promptTemplate,
      functions: a.tools,
      personalityConfig: meta.personalityConfig ?? {},
      knowledgeSources: meta.knowledgeSources ?? [],
      modelConfig,
      allowedIntegrations: body.allowedIntegrations ?? [],
      costLimitPerRequest:
        body.costLimitPerRequest !== undefined
          ? body.costLimitPerRequest
          : a.costLimitPerRequest !== null
            ? a.costLimitPerRequest.toFixed(2)
            : null,
      sourceAgentId: a.id,
    });
    const dto = templateDto(row);
    await audit(tx, request, {
      entityType: 'template',
      entityId: row.id,
      action: 'created',
      after: dto,
      metadata: { fromAgent: a.id },
    });
    return dto;
  });
}

/** The limits an agent made from this template carries into every run. */
export function limitsOf(row: TemplateRow): AgentTemplateLimits {
  return {
    id: row.id,
    version: row.version,
    allowedIntegrations: row.allowedIntegrations,
    ...(row.costLimitPerRequest !== null ? { costLimitPerRequest: row.costLimitPerRequest } : {}),
  };
}

/** A template installed as an agent of this organization; its template limits hold at every run. */
export function agentFromTemplate(
  request: FastifyRequest,
  id: string,
  body: z.infer<typeof templateToAgentBodySchema>,
) {
  const auth = authOf(request);
  return tenant(request, async (tx) => {
    const t = await findTemplate(tx, id);
    const c: TemplateContent = contentOf(t);
    const mc = c.modelConfig as {
      model?: string;
      temperature?: number;
      topP?: number;
      maxTokens?: number;
      outputSchema?: Record<string, unknown>;
    };
    const model = body.model ?? mc.model;
    if (!model)
      throw badRequest('The template names no model in modelConfig.model: send body.model', {
        issues: [{ path: 'body.model', message: 'required for this template' }],
      });
    if (c.allowedIntegrations.length && !c.allowedIntegrations.includes(providerOf(model)))
      throw badRequest(
        `The template allows only ${c.allowedIntegrations.join(', ')}; ${model} is ${providerOf(model)}: pick a model of an allowed provider`,
        { issues: [{ path: 'body.model', message: 'provider not allowed by the template' }] },
      );
    const agentBody = createAgentBodySchema.parse({
      name: body.name,
      description: c.description,
      model,
      temperature: mc.temperature,
      topP: mc.topP,
      maxTokens: mc.maxTokens,
      outputSchema: mc.outputSchema,
      systemPrompt: c.systemPrompt || null,
      promptTemplate: c.promptTemplate,
      tools: c.functions.filter((f): f is string => typeof f === 'string'),
      costLimitPerRequest: c.costLimitPerRequest !== null ? Number(c.costLimitPerRequest) : null,
      integrationId: body.integrationId,
      metadata: {
        template: {
          id: t.id,
          version: t.version,
          name: t.name,
          personalityConfig: c.personalityConfig,
          knowledgeSources: c.knowledgeSources,
          ...(t.sourceListingId ? { listingId: t.sourceListingId } : {}),
        },
      },
    });
    await checkIntegration(tx, agentBody.integrationId, agentBody.model);
    const created = await engine.createAgent(tx, auth.organizationId, agentBody, auth.userId);
    const configuration = { ...created.configuration, template: limitsOf(t) };
    const [row] = await tx.update(agents).set({ configuration }).where(eq(agents.id, created.id)).returning();
    await tx.update(agentVersions).set({ configuration }).where(eq(agentVersions.agentId, created.id));
    const agent = agentDto(row!);
    await audit(tx, request, {
      entityType: 'agent',
      entityId: agent.id,
      action: 'created',
      after: agent,
      metadata: { fromTemplate: t.id, templateVersion: t.version },
    });
    return { agent, template: templateDto(t, await listingOf(tx, t.id)) };
  });
}
