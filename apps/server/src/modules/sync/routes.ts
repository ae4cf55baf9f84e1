import {
  idParamsSchema,
  syncDeliverySchema,
  syncTargetBodySchema,
  syncTargetSchema,
  syncTestResultSchema,
  updateSyncTargetBodySchema,
} from '@aiops/contracts';
import { z } from 'zod';
import type { AppModule } from '../../module.ts';
import * as service from './service.ts';

const tags = ['sync'];

/** Outbound sync targets (seed 001 `omni_bridge_sync`): CRUD, full resync, a test batch, the attempt log. */
export const syncModule: AppModule = (deps) => async (app) => {
  app.get(
    '/sync-targets',
    {
      config: { permission: 'integration:read' },
      schema: {
        tags,
        summary: 'Outbound sync targets, with status, last sync and last error',
        response: { 200: z.object({ data: z.array(syncTargetSchema) }) },
      },
    },
    async (request) => service.listTargets(request),
  );
  app.post(
    '/sync-targets',
    {
      config: { permission: 'integration:manage' },
      schema: {
        tags,
        summary: 'Add a sync target (its Standard Webhooks signing secret is shown once)',
        body: syncTargetBodySchema,
        response: { 201: syncTargetSchema },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await service.createTarget(request, deps.secrets, request.body)),
  );
  app.get(
    '/sync-targets/:id',
    {
      config: { permission: 'integration:read' },
      schema: { tags, summary: 'A sync target', params: idParamsSchema, response: { 200: syncTargetSchema } },
    },
    async (request) => service.getTarget(request, request.params.id),
  );
  app.patch(
    '/sync-targets/:id',
    {
      config: { permission: 'integration:manage' },
      schema: {
        tags,
        summary: 'Change a sync target (a new schedule, or enabling it, makes it sync at once)',
        params: idParamsSchema,
        body: updateSyncTargetBodySchema,
        response: { 200: syncTargetSchema },
      },
    },
    async (request) => service.updateTarget(request, deps.secrets, request.params.id, request.body),
  );
  app.delete(
    '/sync-targets/:id',
    {
      config: { permission: 'integration:manage' },
      schema: {
        tags,
        summary: 'Delete a sync target',
        params: idParamsSchema,
        response: { 200: syncTargetSchema },
      },
    },
    async (request) => service.deleteTarget(request, request.params.id),
  );
  app.post(
    '/sync-targets/:id/resync',
    {
      config: { permission: 'integration:manage' },
      schema: {
        tags,
        summary: 'Full resync: send everything again from the start of the retained events (7 days)',
        params: idParamsSchema,
        response: { 200: syncTargetSchema },
      },
    },
    async (request) => service.resyncTarget(request, request.params.id),
  );
  app.post(
    '/sync-targets/:id/test',
    {
      config: { permission: 'integration:manage' },
      schema: {
        tags,
        summary: 'Send a signed test batch with no events (the cursor does not move)',
        params: idParamsSchema,
        response: { 200: syncTestResultSchema },
      },
    },
    async (request) => service.testTarget(request, deps.secrets, request.params.id),
  );
  app.get(
    '/sync-targets/:id/deliveries',
    {
      config: { permission: 'integration:read' },
      schema: {
        tags,
        summary: "A sync target's recent attempts, newest first",
        params: idParamsSchema,
        querystring: z.object({ limit: z.coerce.number().int().min(1).max(200).default(50) }),
        response: { 200: z.object({ data: z.array(syncDeliverySchema) }) },
      },
    },
    async (request) => service.listSyncDeliveries(request, request.params.id, request.query.limit),
  );
};
