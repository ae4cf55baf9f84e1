import { z } from 'zod';
import type { AppModule } from '../../module.ts';
import { acknowledge, listAlerts, resolveByHand } from './history.ts';
import { preview } from './preview.ts';
import { createRule, deleteRule, listRules, updateRule } from './rules.ts';
import { alertQuery, alertSchema, previewBody, ruleBody, rulePatch, ruleSchema } from './schemas.ts';

const tags = ['alerts'];
const idParams = z.object({ id: z.string().uuid() });

/**
 * Alert rules and alert history (issue 17). Rules are evaluated in `evaluate.ts` as results arrive
 * (agent logs, heartbeats, finished runs through the outbox) and by the `alerts.sweep` job; notifications
 * are queued with each alert change and sent by the worker's notifier (`notify.ts`).
 */
export const alertsModule: AppModule = (deps) => async (app) => {
  app.post(
    '/alerts/rules',
    {
      config: { permission: 'agent:update' },
      schema: { tags, summary: 'Create an alert rule', body: ruleBody, response: { 201: ruleSchema } },
    },
    async (request, reply) => reply.status(201).send(await createRule(request, deps.secrets, request.body)),
  );
  app.get(
    '/alerts/rules',
    {
      config: { permission: 'agent:read' },
      schema: { tags, summary: 'Alert rules', response: { 200: z.object({ data: z.array(ruleSchema) }) } },
    },
    async (request) => listRules(request),
  );
  app.patch(
    '/alerts/rules/:id',
    {
      config: { permission: 'agent:update' },
      schema: {
        tags,
        summary: 'Change an alert rule',
        params: idParams,
        body: rulePatch,
        response: { 200: ruleSchema },
      },
    },
    async (request) => updateRule(request, deps.secrets, request.params.id, request.body),
  );
  app.delete(
    '/alerts/rules/:id',
    {
      config: { permission: 'agent:update' },
      schema: { tags, summary: 'Delete an alert rule and its alerts', params: idParams },
    },
    async (request, reply) => {
      await deleteRule(request, request.params.id);
      return reply.status(204).send();
    },
  );
  app.post(
    '/alerts/rules/preview',
    {
      // A read: it changes nothing.
      config: { permission: 'agent:read', audit: false },
      schema: {
        tags,
        summary: 'How often a rule would have fired over the last 7 days',
        body: previewBody,
        response: {
          200: z.object({
            supported: z.boolean(),
            note: z.string().nullable(),
            fired: z.number().int(),
            results: z.number().int(),
            subjects: z.number().int(),
            truncated: z.boolean(),
            byDay: z.array(z.object({ day: z.string(), fired: z.number().int() })),
          }),
        },
      },
    },
    async (request) => preview(request, request.body),
  );
  app.get(
    '/alerts',
    {
      config: { permission: 'agent:read' },
      schema: {
        tags,
        summary: 'Alert history, newest first',
        querystring: alertQuery,
        response: { 200: z.object({ data: z.array(alertSchema) }) },
      },
    },
    async (request) => listAlerts(request, request.query),
  );
  app.post(
    '/alerts/:id/acknowledge',
    {
      config: { permission: 'agent:update' },
      schema: {
        tags,
        summary: 'Acknowledge an open alert',
        params: idParams,
        response: { 200: alertSchema },
      },
    },
    async (request) => acknowledge(request, request.params.id),
  );
  app.post(
    '/alerts/:id/resolve',
    {
      config: { permission: 'agent:update' },
      schema: {
        tags,
        summary: 'Resolve an alert by hand, with a comment',
        params: idParams,
        body: z
          .object({ comment: z.string().max(2000).optional() })
          .strict()
          .nullish(),
        response: { 200: alertSchema },
      },
    },
    async (request) => resolveByHand(request, request.params.id, request.body?.comment),
  );
};
