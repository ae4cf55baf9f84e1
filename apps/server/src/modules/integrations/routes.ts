import {
  createIntegrationBodySchema,
  idParamsSchema,
  integrationListQuerySchema,
  integrationSchema,
  integrationUsageSchema,
  listResponse,
  testIntegrationBodySchema,
  testIntegrationResponseSchema,
  updateIntegrationBodySchema,
} from '@aiops/contracts';
import type { AppModule } from '../../module.ts';
import { testIntegration } from './connection-test.ts';
import * as service from './service.ts';

const tags = ['integrations'];

/** Provider integrations: encrypted credentials (never returned), connection test, usage. */
export const integrationsModule: AppModule = (deps) => async (app) => {
  app.get(
    '/integrations',
    {
      config: { permission: 'integration:read' },
      schema: {
        tags,
        summary: 'List integrations (never their secrets)',
        querystring: integrationListQuerySchema,
        response: { 200: listResponse(integrationSchema) },
      },
    },
    async (request) => service.listIntegrations(request, request.query),
  );
  app.post(
    '/integrations',
    {
      config: { permission: 'integration:manage' },
      schema: {
        tags,
        summary: 'Add an integration (credentials are encrypted; the answer shows only a hint)',
        body: createIntegrationBodySchema,
        response: { 201: integrationSchema },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await service.createIntegration(request, deps.secrets, request.body)),
  );
  app.get(
    '/integrations/:id',
    {
      config: { permission: 'integration:read' },
      schema: {
        tags,
        summary: 'One integration',
        params: idParamsSchema,
        response: { 200: integrationSchema },
      },
    },
    async (request) => service.getIntegration(request, request.params.id),
  );
  app.patch(
    '/integrations/:id',
    {
      config: { permission: 'integration:manage' },
      schema: {
        tags,
        summary: 'Change an integration; `credentials` rotates its key',
        params: idParamsSchema,
        body: updateIntegrationBodySchema,
        response: { 200: integrationSchema },
      },
    },
    async (request) => service.updateIntegration(request, deps.secrets, request.params.id, request.body),
  );
  app.delete(
    '/integrations/:id',
    {
      config: { permission: 'integration:manage' },
      schema: {
        tags,
        summary: 'Delete an integration (agents naming it fail their next call)',
        params: idParamsSchema,
        response: { 200: integrationSchema },
      },
    },
    async (request) => service.deleteIntegration(request, request.params.id),
  );
  app.post(
    '/integrations/:id/test',
    {
      config: { permission: 'integration:manage' },
      schema: {
        tags,
        summary: 'Call the provider once (1 token) and set status connected or error',
        params: idParamsSchema,
        body: testIntegrationBodySchema.nullish(),
        response: { 200: testIntegrationResponseSchema },
      },
    },
    async (request) => testIntegration(request, deps.db, deps.secrets, request.params.id, request.body ?? {}),
  );
  app.get(
    '/integrations/:id/usage',
    {
      config: { permission: 'integration:read' },
      schema: {
        tags,
        summary: "Requests, tokens and cost through this integration; per model from the org's step attempts",
        params: idParamsSchema,
        response: { 200: integrationUsageSchema },
      },
    },
    async (request) => service.integrationUsage(request, request.params.id),
  );
};
