import {
  agentListQuerySchema,
  agentSchema,
  agentVersionSchema,
  createAgentBodySchema,
  idParamsSchema,
  listResponse,
  tryAgentBodySchema,
  tryAgentResponseSchema,
  updateAgentBodySchema,
} from '@aiops/contracts';
import { z } from 'zod';
import type { AppModule } from '../../module.ts';
import * as service from './service.ts';

const tags = ['agents'];

/** Agents: org-level, versioned (every save is a new version that runs can pin). */
export const agentsModule: AppModule = (deps) => async (app) => {
  app.get(
    '/agents',
    {
      config: { permission: 'agent:read' },
      schema: {
        tags,
        summary: 'List agents',
        querystring: agentListQuerySchema,
        response: { 200: listResponse(agentSchema) },
      },
    },
    async (request) => service.listAgents(request, request.query),
  );
  app.post(
    '/agents',
    {
      config: { permission: 'agent:create' },
      schema: {
        tags,
        summary: 'Create an agent (version 1)',
        body: createAgentBodySchema,
        response: { 201: agentSchema },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await service.createAgent(request, deps.secrets, request.body)),
  );
  app.get(
    '/agents/:id',
    {
      config: { permission: 'agent:read' },
      schema: { tags, summary: 'One agent', params: idParamsSchema, response: { 200: agentSchema } },
    },
    async (request) => service.getAgent(request, request.params.id),
  );
  app.patch(
    '/agents/:id',
    {
      config: { permission: 'agent:update' },
      schema: {
        tags,
        summary: 'Change an agent (saved as its next version)',
        params: idParamsSchema,
        body: updateAgentBodySchema,
        response: { 200: agentSchema },
      },
    },
    async (request) => service.updateAgent(request, deps.secrets, request.params.id, request.body),
  );
  app.delete(
    '/agents/:id',
    {
      config: { permission: 'agent:delete' },
      schema: {
        tags,
        summary: 'Delete an agent (runs that pinned it keep their version)',
        params: idParamsSchema,
        response: { 200: agentSchema },
      },
    },
    async (request) => service.deleteAgent(request, request.params.id),
  );
  app.get(
    '/agents/:id/versions',
    {
      config: { permission: 'agent:read' },
      schema: {
        tags,
        summary: "An agent's versions, newest first",
        params: idParamsSchema,
        response: { 200: z.object({ data: z.array(agentVersionSchema) }) },
      },
    },
    async (request) => ({ data: await service.listVersions(request, request.params.id) }),
  );
  app.post(
    '/agents/:id/try',
    {
      config: { permission: 'agent:execute', audit: false },
      schema: {
        tags,
        summary: 'Call the agent once with this input, outside any workflow (the studio try-it panel)',
        params: idParamsSchema,
        body: tryAgentBodySchema,
        response: { 200: tryAgentResponseSchema },
      },
    },
    async (request) => service.tryAgent(request, deps.engine.model, request.params.id, request.body),
  );
};
