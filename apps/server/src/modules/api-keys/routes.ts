import {
  apiKeySchema,
  createApiKeyBodySchema,
  createApiKeyResponseSchema,
  idParamsSchema,
  listQuerySchema,
  listResponse,
} from '@aiops/contracts';
import type { AppModule } from '../../module.ts';
import * as service from './service.ts';

const tags = ['api-keys'];

/** API keys: `aio_…` secrets shown once, scoped, expiring, rate limited, revocable. */
export const apiKeysModule: AppModule = () => async (app) => {
  app.post(
    '/api-keys',
    {
      config: { permission: 'api_key:manage' },
      schema: {
        tags,
        summary: 'Create a key (the secret is in this answer only)',
        body: createApiKeyBodySchema,
        response: { 201: createApiKeyResponseSchema },
      },
    },
    async (request, reply) => reply.status(201).send(await service.createApiKey(request, request.body)),
  );
  app.get(
    '/api-keys',
    {
      config: { permission: 'api_key:read' },
      schema: {
        tags,
        summary: 'List keys (never their secrets)',
        querystring: listQuerySchema,
        response: { 200: listResponse(apiKeySchema) },
      },
    },
    async (request) => service.listApiKeys(request, request.query),
  );
  app.get(
    '/api-keys/:id',
    {
      config: { permission: 'api_key:read' },
      schema: { tags, summary: 'One key', params: idParamsSchema, response: { 200: apiKeySchema } },
    },
    async (request) => service.getApiKey(request, request.params.id),
  );
  app.delete(
    '/api-keys/:id',
    {
      config: { permission: 'api_key:manage' },
      schema: {
        tags,
        summary: 'Revoke a key, at once',
        params: idParamsSchema,
        response: { 200: apiKeySchema },
      },
    },
    async (request) => service.revokeApiKey(request, request.params.id),
  );
};
