import {
  createTriggerBodySchema,
  cronPreviewQuerySchema,
  cronPreviewSchema,
  firingSchema,
  idParamsSchema,
  triggerSchema,
  updateTriggerBodySchema,
} from '@aiops/contracts';
import { z } from 'zod';
import type { AppModule } from '../../module.ts';
import { checkSchedule, nextFireTimes } from './cron.ts';
import { hookRoutes } from './hooks.ts';
import * as service from './service.ts';

const tags = ['triggers'];

/** Triggers of workflows (schedules, webhooks, events), their firings, and the webhook URLs. */
export const triggersModule: AppModule = (deps) => async (app) => {
  app.get(
    '/workflows/:id/triggers',
    {
      config: { permission: 'workflow:read' },
      schema: {
        tags,
        summary: "A workflow's triggers",
        params: idParamsSchema,
        response: { 200: z.object({ data: z.array(triggerSchema) }) },
      },
    },
    async (request) => service.listTriggers(request, request.params.id),
  );
  app.post(
    '/workflows/:id/triggers',
    {
      config: { permission: 'workflow:update' },
      schema: {
        tags,
        summary: 'Add a trigger (a webhook answer shows its secret once)',
        params: idParamsSchema,
        body: createTriggerBodySchema,
        response: { 201: triggerSchema },
      },
    },
    async (request, reply) =>
      reply
        .status(201)
        .send(await service.createTrigger(request, deps.secrets, request.params.id, request.body)),
  );
  app.get(
    '/triggers/:id',
    {
      config: { permission: 'workflow:read' },
      schema: { tags, summary: 'One trigger', params: idParamsSchema, response: { 200: triggerSchema } },
    },
    async (request) => service.getTrigger(request, request.params.id),
  );
  app.patch(
    '/triggers/:id',
    {
      config: { permission: 'workflow:update' },
      schema: {
        tags,
        summary: 'Change a trigger',
        params: idParamsSchema,
        body: updateTriggerBodySchema,
        response: { 200: triggerSchema },
      },
    },
    async (request) => service.updateTrigger(request, request.params.id, request.body),
  );
  app.delete(
    '/triggers/:id',
    {
      config: { permission: 'workflow:update' },
      schema: { tags, summary: 'Delete a trigger', params: idParamsSchema, response: { 200: triggerSchema } },
    },
    async (request) => service.deleteTrigger(request, request.params.id),
  );
  app.post(
    '/triggers/:id/rotate-secret',
    {
      config: { permission: 'workflow:update' },
      schema: {
        tags,
        summary: 'A new secret for a webhook trigger (shown once; the old one stops working)',
        params: idParamsSchema,
        response: { 200: triggerSchema },
      },
    },
    async (request) => service.rotateSecret(request, deps.secrets, request.params.id),
  );
  app.get(
    '/triggers/:id/firings',
    {
      config: { permission: 'workflow:read' },
      schema: {
        tags,
        summary: "A trigger's firings, newest first: the run each started, or why none",
        params: idParamsSchema,
        querystring: z.object({ limit: z.coerce.number().int().min(1).max(200).default(50) }),
        response: { 200: z.object({ data: z.array(firingSchema) }) },
      },
    },
    async (request) => service.listFirings(request, request.params.id, request.query.limit),
  );
  app.get(
    '/triggers/cron-preview',
    {
      config: { permission: 'workflow:read' },
      schema: {
        tags,
        summary: 'The next fire times of a cron expression in a time zone',
        querystring: cronPreviewQuerySchema,
        response: { 200: cronPreviewSchema },
      },
    },
    async (request) => {
      const q = request.query;
      checkSchedule(q.cron, q.timezone, 'query');
      return { times: nextFireTimes(q.cron, q.timezone, new Date(), q.count).map((d) => d.toISOString()) };
    },
  );
  await app.register(hookRoutes(deps));
};
