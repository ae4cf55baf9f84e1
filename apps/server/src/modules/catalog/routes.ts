import {
  agentSchema,
  agentTypeListQuerySchema,
  agentTypeSchema,
  instantiateAgentTypeBodySchema,
} from '@aiops/contracts';
import { z } from 'zod';
import type { AppModule } from '../../module.ts';
import { loadCatalog, STARTER_CATALOG_DIR } from './definitions.ts';
import { AgentCatalog, instantiate } from './service.ts';

const tags = ['agent-types'];
const params = z.object({ id: z.string().min(1).max(100) });

/**
 * The agent catalog: types read from definition files at start (AIOPS_CATALOG_DIR, else the starter
 * catalog); a broken file stops the server with its file and field named.
 */
export const catalogModule: AppModule = (deps) => async (app) => {
  const catalog = new AgentCatalog(await loadCatalog(deps.settings.catalogDir ?? STARTER_CATALOG_DIR));
  app.get(
    '/agent-types',
    {
      config: { permission: 'agent:read' },
      schema: {
        tags,
        summary: 'The agent types of the catalog',
        querystring: agentTypeListQuerySchema,
        response: { 200: z.object({ data: z.array(agentTypeSchema), categories: z.array(z.string()) }) },
      },
    },
    async (request) => ({ data: catalog.list(request.query), categories: catalog.categories() }),
  );
  app.get(
    '/agent-types/:id',
    {
      config: { permission: 'agent:read' },
      schema: { tags, summary: 'One agent type', params, response: { 200: agentTypeSchema } },
    },
    async (request) => catalog.get(request.params.id),
  );
  app.post(
    '/agent-types/:id/agents',
    {
      config: { permission: 'agent:create' },
      schema: {
        tags,
        summary:
          'Create an agent from a type (its default_config merged with yours; required_params demanded)',
        params,
        body: instantiateAgentTypeBodySchema,
        response: { 201: agentSchema },
      },
    },
    async (request, reply) =>
      reply
        .status(201)
        .send(await instantiate(request, deps.secrets, catalog.get(request.params.id), request.body)),
  );
};
