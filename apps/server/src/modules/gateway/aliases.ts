/**
 * Model aliases (`/api/v1/model-aliases`): names an organization gives to an ordered list of models, which
 * the gateway tries in turn. Targets are checked when saved: a known provider, and an integration of the
 * organization for that provider when one is named.
 */
import { badRequest, conflict, notFound } from '@aiops/core';
import { integrations, type ModelAlias, modelAliases } from '@aiops/db';
import { isProviderId } from '@aiops/providers';
import { asc, eq, inArray } from 'drizzle-orm';
import { z } from 'zod';
import { authOf } from '../../http/auth.ts';
import { audit, tenant } from '../../http/tenant.ts';
import type { AppModule } from '../../module.ts';

const tags = ['gateway'];

const targetSchema = z
  .object({
    model: z
      .string()
      .min(3)
      .max(255)
      .regex(/^[a-z][a-z0-9-]*:[A-Za-z0-9._/@:+-]+$/, 'must be provider:model, e.g. openai:gpt-4o-mini'),
    integrationId: z.string().uuid().optional().describe("the provider's default integration when absent"),
  })
  .strict();

const aliasBody = z
  .object({
    alias: z
      .string()
      .min(1)
      .max(100)
      .regex(/^[A-Za-z0-9][A-Za-z0-9._/@+-]*$/, 'letters, digits and . _ / @ + - (no colon)'),
    targets: z.array(targetSchema).min(1).max(10),
    cacheTtlSeconds: z
      .number()
      .int()
      .min(1)
      .max(30 * 86_400)
      .nullable()
      .default(null),
  })
  .strict();

const aliasSchema = z.object({
  id: z.string().uuid(),
  alias: z.string(),
  targets: z.array(z.object({ model: z.string(), integrationId: z.string().optional() })),
  cacheTtlSeconds: z.number().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

const toDto = (a: ModelAlias) => ({
  id: a.id,
  alias: a.alias,
  targets: a.targets,
  cacheTtlSeconds: a.cacheTtlSeconds,
  createdAt: a.createdAt.toISOString(),
  updatedAt: a.updatedAt.toISOString(),
});

type Tx = Parameters<Parameters<typeof tenant>[1]>[0];

async function checkTargets(tx: Tx, targets: z.infer<typeof targetSchema>[]) {
  for (const [i, t] of targets.entries()) {
    const provider = t.model.slice(0, t.model.indexOf(':'));
    if (provider !== 'simulator' && !isProviderId(provider))
      throw badRequest(`targets[${i}].model: unknown provider "${provider}"`, {
        issues: [{ path: `body.targets.${i}.model`, message: 'unknown provider' }],
      });
  }
  const ids = targets.flatMap((t) => (t.integrationId ? [t.integrationId] : []));
  if (!ids.length) return;
  const rows = await tx
    .select({ id: integrations.id, provider: integrations.provider })
    .from(integrations)
    .where(inArray(integrations.id, ids));
  const byId = new Map(rows.map((r) => [r.id, r.provider]));
  for (const [i, t] of targets.entries()) {
    if (!t.integrationId) continue;
    const provider = byId.get(t.integrationId);
    if (!provider)
      throw badRequest(
        `targets[${i}].integrationId: no integration ${t.integrationId} in this organization`,
        {
          issues: [{ path: `body.targets.${i}.integrationId`, message: 'does not exist' }],
        },
      );
    if (!t.model.startsWith(`${provider}:`))
      throw badRequest(`targets[${i}].integrationId is a ${provider} integration, not for ${t.model}`, {
        issues: [{ path: `body.targets.${i}.integrationId`, message: `is for ${provider}` }],
      });
  }
}

const isUniqueViolation = (e: unknown) =>
  (e as { code?: string })?.code === '23505' || (e as { cause?: { code?: string } })?.cause?.code === '23505';

export const modelAliasesModule: AppModule = () => async (app) => {
  app.get(
    '/model-aliases',
    {
      config: { permission: 'integration:read' },
      schema: {
        tags,
        summary: "The organization's model aliases",
        response: { 200: z.object({ data: z.array(aliasSchema) }) },
      },
    },
    async (request) =>
      tenant(request, async (tx) => ({
        data: (await tx.select().from(modelAliases).orderBy(asc(modelAliases.alias)).limit(500)).map(toDto),
      })),
  );
  app.post(
    '/model-aliases',
    {
      config: { permission: 'integration:manage' },
      schema: { tags, summary: 'Create an alias', body: aliasBody, response: { 201: aliasSchema } },
    },
    async (request, reply) => {
      const body = request.body;
      const row = await tenant(request, async (tx) => {
        await checkTargets(tx, body.targets);
        const [row] = await tx
          .insert(modelAliases)
          .values({
            organizationId: authOf(request).organizationId,
            alias: body.alias,
            targets: body.targets,
            cacheTtlSeconds: body.cacheTtlSeconds,
          })
          .onConflictDoNothing()
          .returning();
        if (!row)
          throw conflict(`an alias "${body.alias}" exists already: update it (PUT) or pick another name`);
        await audit(tx, request, {
          entityType: 'model_alias',
          entityId: row.id,
          action: 'created',
          after: toDto(row),
        });
        return row;
      });
      return reply.status(201).send(toDto(row));
    },
  );
  app.put(
    '/model-aliases/:id',
    {
      config: { permission: 'integration:manage' },
      schema: {
        tags,
        summary: "Replace an alias's name, targets and cache",
        params: z.object({ id: z.string().uuid() }),
        body: aliasBody,
        response: { 200: aliasSchema },
      },
    },
    async (request) => {
      const body = request.body;
      return tenant(request, async (tx) => {
        const [before] = await tx.select().from(modelAliases).where(eq(modelAliases.id, request.params.id));
        if (!before) throw notFound('model_alias', request.params.id);
        await checkTargets(tx, body.targets);
        let row: ModelAlias | undefined;
        try {
          [row] = await tx
            .update(modelAliases)
            .set({
              alias: body.alias,
              targets: body.targets,
              cacheTtlSeconds: body.cacheTtlSeconds,
              updatedAt: new Date(),
            })
            .where(eq(modelAliases.id, request.params.id))
            .returning();
        } catch (e) {
          if (isUniqueViolation(e)) throw conflict(`an alias "${body.alias}" exists already`);
          throw e;
        }
        await audit(tx, request, {
          entityType: 'model_alias',
          entityId: before.id,
          action: 'updated',
          before: toDto(before),
          after: toDto(row!),
        });
        return toDto(row!);
      });
    },
  );
  app.delete(
    '/model-aliases/:id',
    {
      config: { permission: 'integration:manage' },
      schema: { tags, summary: 'Delete an alias', params: z.object({ id: z.string().uuid() }) },
    },
    async (request, reply) => {
      await tenant(request, async (tx) => {
        const [row] = await tx.delete(modelAliases).where(eq(modelAliases.id, request.params.id)).returning();
        if (!row) throw notFound('model_alias', request.params.id);
        await audit(tx, request, {
          entityType: 'model_alias',
          entityId: row.id,
          action: 'deleted',
          before: toDto(row),
        });
      });
      return reply.status(204).send();
    },
  );
};
