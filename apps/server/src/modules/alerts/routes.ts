import { randomUUID } from 'node:crypto';
import { notFound } from '@aiops/core';
import { alertRules, alerts } from '@aiops/db';
import { and, desc, eq } from 'drizzle-orm';
import { z } from 'zod';
import { authOf } from '../../http/auth.ts';
import { audit, tenant } from '../../http/tenant.ts';
import type { AppModule } from '../../module.ts';

const tags = ['alerts'];

const ruleBody = z
  .object({
    name: z.string().trim().min(1).max(255),
    agentId: z
      .string()
      .uuid()
      .nullable()
      .default(null)
      .describe('one external agent, or null for all of them'),
    condition: z.discriminatedUnion('kind', [
      z.object({ kind: z.literal('agent_offline') }).strict(),
      z.object({ kind: z.literal('consecutive_failures'), count: z.number().int().min(1).max(100) }).strict(),
    ]),
    channels: z
      .object({
        email: z.array(z.string().email().max(254)).max(20).default([]),
        slack: z
          .string()
          .url()
          .max(2000)
          .regex(/^https?:\/\//, 'must be an http(s) URL')
          .optional()
          .describe(
            'a Slack (or Slack-compatible) incoming webhook URL; stored encrypted, never shown again',
          ),
      })
      .strict()
      .default({ email: [] }),
    enabled: z.boolean().default(true),
  })
  .strict();

const ruleSchema = z.object({
  id: z.string().uuid(),
  name: z.string(),
  agentId: z.string().uuid().nullable(),
  condition: z.record(z.string(), z.unknown()),
  channels: z.object({ email: z.array(z.string()), slack: z.boolean().describe('a Slack webhook is set') }),
  enabled: z.boolean(),
  createdAt: z.string(),
});

const alertSchema = z.object({
  id: z.string().uuid(),
  ruleId: z.string().uuid(),
  agentId: z.string().uuid(),
  status: z.enum(['open', 'resolved']),
  triggeredAt: z.string(),
  resolvedAt: z.string().nullable(),
  details: z.record(z.string(), z.unknown()),
});

const toRule = (r: typeof alertRules.$inferSelect) => ({
  id: r.id,
  name: r.name,
  agentId: r.agentId,
  condition: r.condition as unknown as Record<string, unknown>,
  channels: { email: r.channels.email ?? [], slack: r.slackWebhookEncrypted !== null },
  enabled: r.enabled,
  createdAt: r.createdAt.toISOString(),
});
const toAlert = (a: typeof alerts.$inferSelect) => ({
  id: a.id,
  ruleId: a.ruleId,
  agentId: a.agentId,
  status: a.status,
  triggeredAt: a.triggeredAt.toISOString(),
  resolvedAt: a.resolvedAt?.toISOString() ?? null,
  details: a.details,
});

/**
 * Alert rules on external agents (issue 17, first part): `agent_offline` and `consecutive_failures`,
 * emailed when an alert opens and when it resolves. Evaluated in `evaluate.ts` as heartbeats, logs and
 * the offline sweep arrive.
 */
export const alertsModule: AppModule = (deps) => async (app) => {
  app.post(
    '/alerts/rules',
    {
      config: { permission: 'agent:update' },
      schema: { tags, summary: 'Create an alert rule', body: ruleBody, response: { 201: ruleSchema } },
    },
    async (request, reply) => {
      const auth = authOf(request);
      const rule = await tenant(request, async (tx) => {
        const id = randomUUID();
        const { slack, ...channels } = request.body.channels;
        const [row] = await tx
          .insert(alertRules)
          .values({
            ...request.body,
            id,
            channels,
            slackWebhookEncrypted: slack ? deps.secrets.encrypt(slack, `alert_rule:${id}`) : null,
            organizationId: auth.organizationId,
            createdBy: auth.userId,
          })
          .returning();
        const dto = toRule(row!);
        await audit(tx, request, {
          entityType: 'alert_rule',
          entityId: dto.id,
          action: 'created',
          after: dto,
        });
        return dto;
      });
      return reply.status(201).send(rule);
    },
  );
  app.get(
    '/alerts/rules',
    {
      config: { permission: 'agent:read' },
      schema: { tags, summary: 'Alert rules', response: { 200: z.object({ data: z.array(ruleSchema) }) } },
    },
    async (request) =>
      tenant(request, async (tx) => ({
        data: (await tx.select().from(alertRules).orderBy(desc(alertRules.createdAt)).limit(500)).map(toRule),
      })),
  );
  app.get(
    '/alerts',
    {
      config: { permission: 'agent:read' },
      schema: {
        tags,
        summary: 'Alert history, newest first',
        querystring: z.object({ status: z.enum(['open', 'resolved']).optional() }),
        response: { 200: z.object({ data: z.array(alertSchema) }) },
      },
    },
    async (request) =>
      tenant(request, async (tx) => ({
        data: (
          await tx
            .select()
            .from(alerts)
            .where(request.query.status ? eq(alerts.status, request.query.status) : undefined)
            .orderBy(desc(alerts.triggeredAt))
            .limit(500)
        ).map(toAlert),
      })),
  );
  app.post(
    '/alerts/:id/resolve',
    {
      config: { permission: 'agent:update' },
      schema: {
        tags,
        summary: 'Resolve an open alert by hand',
        params: z.object({ id: z.string().uuid() }),
        response: { 200: alertSchema },
      },
    },
    async (request) =>
      tenant(request, async (tx) => {
        const [before] = await tx.select().from(alerts).where(eq(alerts.id, request.params.id));
        if (!before) throw notFound('alert', request.params.id);
        if (before.status === 'resolved') return toAlert(before);
        const [row] = await tx
          .update(alerts)
          .set({
            status: 'resolved',
            resolvedAt: new Date(),
            details: { ...before.details, resolution: 'by hand' },
          })
          .where(and(eq(alerts.id, before.id), eq(alerts.status, 'open')))
          .returning();
        const after = toAlert(row ?? before);
        await audit(tx, request, {
          entityType: 'alert',
          entityId: before.id,
          action: 'resolved',
          before: toAlert(before),
          after,
        });
        return after;
      }),
  );
};
