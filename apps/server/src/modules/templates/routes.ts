import {
  createTemplateBodySchema,
  idParamsSchema,
  listQuerySchema,
  listResponse,
  templateAgentResponseSchema,
  templateFromAgentBodySchema,
  templateSchema,
  templateToAgentBodySchema,
  templateVersionSchema,
  updateTemplateBodySchema,
} from '@aiops/contracts';
import { z } from 'zod';
import type { AppModule } from '../../module.ts';
import * as service from './service.ts';

const tags = ['templates'];

/** Templates (seed 001 ai_templates): versioned agent packages, from an agent and back to one. */
export const templatesModule: AppModule = () => async (app) => {
  app.get(
    '/templates',
    {
      config: { permission: 'agent:read' },
      schema: {
        tags,
        summary: "This organization's templates (made here or bought)",
        querystring: listQuerySchema,
        response: { 200: listResponse(templateSchema) },
      },
    },
    async (request) => service.listTemplates(request, request.query),
  );
  app.post(
    '/templates',
    {
      config: { permission: 'agent:create' },
      schema: {
        tags,
        summary: 'Create a template (version 1)',
        body: createTemplateBodySchema,
        response: { 201: templateSchema },
      },
    },
    async (request, reply) => reply.status(201).send(await service.createTemplate(request, request.body)),
  );
  app.post(
    '/templates/from-agent',
    {
      config: { permission: 'agent:create' },
      schema: {
        tags,
        summary: 'Package an agent as a template (tool configurations stay behind)',
        body: templateFromAgentBodySchema,
        response: { 201: templateSchema },
      },
    },
    async (request, reply) => reply.status(201).send(await service.templateFromAgent(request, request.body)),
  );
  app.get(
    '/templates/:id',
    {
      config: { permission: 'agent:read' },
      schema: { tags, summary: 'One template', params: idParamsSchema, response: { 200: templateSchema } },
    },
    async (request) => service.getTemplate(request, request.params.id),
  );
  app.patch(
    '/templates/:id',
    {
      config: { permission: 'agent:update' },
      schema: {
        tags,
        summary: 'Change a template (saved as its next version)',
        params: idParamsSchema,
        body: updateTemplateBodySchema,
        response: { 200: templateSchema },
      },
    },
    async (request) => service.updateTemplate(request, request.params.id, request.body),
  );
  app.delete(
    '/templates/:id',
    {
      config: { permission: 'agent:delete' },
      schema: {
        tags,
        summary: 'Delete a template',
        params: idParamsSchema,
        response: { 200: templateSchema },
      },
    },
    async (request) => service.deleteTemplate(request, request.params.id),
  );
  app.get(
    '/templates/:id/versions',
    {
      config: { permission: 'agent:read' },
      schema: {
        tags,
        summary: "A template's versions, newest first",
        params: idParamsSchema,
        response: { 200: z.object({ data: z.array(templateVersionSchema) }) },
      },
    },
    async (request) => ({ data: await service.listTemplateVersions(request, request.params.id) }),
  );
  app.post(
    '/templates/:id/agents',
    {
      config: { permission: 'agent:create' },
      schema: {
        tags,
        summary:
          'Install the template as an agent (its allowed integrations and cost limit hold at every run)',
        params: idParamsSchema,
        body: templateToAgentBodySchema,
        response: { 201: templateAgentResponseSchema },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await service.agentFromTemplate(request, request.params.id, request.body)),
  );
};
