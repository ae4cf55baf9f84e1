import { idParamsSchema } from '@aiops/contracts';
import { createEmbeddingPort } from '@aiops/providers';
import { z } from 'zod';
import { authOf } from '../../http/auth.ts';
import { tenant } from '../../http/tenant.ts';
import type { AppModule } from '../../module.ts';
import { integrationResolver } from '../integrations/model-port.ts';
import { makeEmbedder } from './embed.ts';
import { glossaryFor } from './glossary.ts';
import {
  createTermBodySchema,
  exportQuerySchema,
  glossaryBodySchema,
  importBodySchema,
  searchHitSchema,
  termListQuerySchema,
  termSchema,
  termSearchQuerySchema,
  updateTermBodySchema,
} from './schemas.ts';
import * as service from './service.ts';
import { exportTerms, importTerms } from './transfer.ts';
import { TermVectorCache } from './vector-cache.ts';

const tags = ['terminology'];

/**
 * The terminology dictionary: entries public to the organization or private to their author (row-level
 * security decides), hybrid search, import/export, and a glossary preview of what a prompt would get.
 */
export const terminologyModule: AppModule = (deps) => async (app) => {
  const embed = makeEmbedder(
    deps.db,
    createEmbeddingPort({
      resolveIntegration: integrationResolver(deps.db, deps.secrets, deps.settings.privateNetworkCategories),
    }),
  );
  const vectors = new TermVectorCache();
  app.get(
    '/terminology',
    {
      config: { permission: 'agent:read' },
      schema: {
        tags,
        summary: 'Entries you can see, by term',
        querystring: termListQuerySchema,
        response: { 200: z.object({ data: z.array(termSchema), nextOffset: z.number().nullable() }) },
      },
    },
    async (request) => service.listTerms(request, request.query),
  );
  app.get(
    '/terminology/search',
    {
      config: { permission: 'agent:read' },
      schema: {
        tags,
        summary: 'Hybrid search: exact, full-text, fuzzy and semantic matches in one ranking',
        querystring: termSearchQuerySchema,
        response: { 200: z.object({ data: z.array(searchHitSchema) }) },
      },
    },
    async (request) => service.searchTerms(request, embed, vectors, request.query),
  );
  app.get(
    '/terminology/export',
    {
      config: { permission: 'agent:read' },
      schema: { tags, summary: 'Every entry you can see, as CSV or JSON', querystring: exportQuerySchema },
    },
    async (request, reply) => {
      const body = await exportTerms(request, request.query.format);
      return reply
        .header(
          'content-type',
          request.query.format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json; charset=utf-8',
        )
        .header('content-disposition', `attachment; filename="terminology.${request.query.format}"`)
        .send(body);
    },
  );
  app.post(
    '/terminology/import',
    {
      config: { permission: 'agent:update' },
      schema: {
        tags,
        summary: 'Import entries from CSV or JSON (same term and visibility: updated)',
        body: importBodySchema,
        response: { 200: z.object({ created: z.number(), updated: z.number() }) },
      },
    },
    async (request) => importTerms(request, embed, request.body),
  );
  app.post(
    '/terminology/glossary',
    {
      config: { permission: 'agent:read', audit: false },
      schema: {
        tags,
        summary: 'Preview the glossary a prompt would get (nothing is counted)',
        body: glossaryBodySchema,
        response: { 200: z.object({ block: z.string(), termIds: z.array(z.string()), tokens: z.number() }) },
      },
    },
    async (request) => {
      const [embedding] = await embed(authOf(request).organizationId, [request.body.text]);
      const g = await tenant(request, (tx) =>
        glossaryFor(
          deps.db.embeddings,
          tx,
          request.body.text,
          request.body.tokenBudget,
          'conversation',
          embedding,
          false,
        ),
      );
      return { block: g.block, termIds: g.ids, tokens: g.tokens };
    },
  );
  app.post(
    '/terminology',
    {
      config: { permission: 'agent:update' },
      schema: { tags, summary: 'Add an entry', body: createTermBodySchema, response: { 201: termSchema } },
    },
    async (request, reply) => reply.status(201).send(await service.createTerm(request, embed, request.body)),
  );
  app.get(
    '/terminology/:id',
    {
      config: { permission: 'agent:read' },
      schema: {
        tags,
        summary: 'One entry with its related terms',
        params: idParamsSchema,
        response: { 200: termSchema },
      },
    },
    async (request) => service.getTerm(request, request.params.id),
  );
  app.patch(
    '/terminology/:id',
    {
      config: { permission: 'agent:update' },
      schema: {
        tags,
        summary: 'Change an entry',
        params: idParamsSchema,
        body: updateTermBodySchema,
        response: { 200: termSchema },
      },
    },
    async (request) => service.updateTerm(request, embed, request.params.id, request.body as never),
  );
  app.delete(
    '/terminology/:id',
    {
      config: { permission: 'agent:update' },
      schema: { tags, summary: 'Delete an entry', params: idParamsSchema },
    },
    async (request, reply) => {
      await service.deleteTerm(request, request.params.id);
      return reply.status(204).send();
    },
  );
};
