import {
  addDatasetItemsBodySchema,
  addFromRunBodySchema,
  createDatasetBodySchema,
  datasetItemSchema,
  datasetItemsQuerySchema,
  datasetSchema,
  idParamsSchema,
  importDatasetBodySchema,
  listResponse,
  updateDatasetBodySchema,
} from '@aiops/contracts';
import { z } from 'zod';
import type { AppModule } from '../../module.ts';
import * as service from './service.ts';

const tags = ['datasets'];
const items = z.object({ version: z.number().int(), data: z.array(datasetItemSchema) });

/**
 * Datasets (issue 16): items with input, expected output and metadata, versioned (every change is the next
 * version); import from CSV or JSON Lines; a production run's input/output as an item. Workflow permissions.
 */
export const datasetsModule: AppModule = () => async (app) => {
  app.get(
    '/datasets',
    {
      config: { permission: 'workflow:read' },
      schema: { tags, summary: 'List datasets', response: { 200: listResponse(datasetSchema) } },
    },
    async (request) => service.listDatasets(request),
  );
  app.post(
    '/datasets',
    {
      config: { permission: 'workflow:create' },
      schema: {
        tags,
        summary: 'Create a dataset',
        body: createDatasetBodySchema,
        response: { 201: datasetSchema },
      },
    },
    async (request, reply) => reply.status(201).send(await service.createDataset(request, request.body)),
  );
  app.get(
    '/datasets/:id',
    {
      config: { permission: 'workflow:read' },
      schema: { tags, summary: 'One dataset', params: idParamsSchema, response: { 200: datasetSchema } },
    },
    async (request) => service.getDataset(request, request.params.id),
  );
  app.patch(
    '/datasets/:id',
    {
      config: { permission: 'workflow:update' },
      schema: {
        tags,
        summary: 'Rename or describe a dataset',
        params: idParamsSchema,
        body: updateDatasetBodySchema,
        response: { 200: datasetSchema },
      },
    },
    async (request) => service.updateDataset(request, request.params.id, request.body),
  );
  app.delete(
    '/datasets/:id',
    {
      config: { permission: 'workflow:delete' },
      schema: { tags, summary: 'Delete a dataset', params: idParamsSchema, response: { 200: datasetSchema } },
    },
    async (request) => service.deleteDataset(request, request.params.id),
  );
  app.get(
    '/datasets/:id/items',
    {
      config: { permission: 'workflow:read' },
      schema: {
        tags,
        summary: "A version's items (default: the current version)",
        params: idParamsSchema,
        querystring: datasetItemsQuerySchema,
        response: { 200: items },
      },
    },
    async (request) => service.listItems(request, request.params.id, request.query.version),
  );
  app.post(
    '/datasets/:id/items',
    {
      config: { permission: 'workflow:update' },
      schema: {
        tags,
        summary: 'Add items (the next version)',
        params: idParamsSchema,
        body: addDatasetItemsBodySchema,
        response: { 201: items },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await service.createItems(request, request.params.id, request.body)),
  );
  app.post(
    '/datasets/:id/import',
    {
      config: { permission: 'workflow:update' },
      bodyLimit: 6 * 1024 * 1024,
      schema: {
        tags,
        summary: 'Import CSV or JSON Lines (all rows or none: bad rows are listed by line, 400)',
        params: idParamsSchema,
        body: importDatasetBodySchema,
        response: { 201: items },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await service.importItems(request, request.params.id, request.body)),
  );
  app.post(
    '/datasets/:id/items/from-run',
    {
      config: { permission: 'workflow:update' },
      schema: {
        tags,
        summary: "Add a completed run's input (and output as the expected output) as an item",
        params: idParamsSchema,
        body: addFromRunBodySchema,
        response: { 201: datasetItemSchema },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await service.addFromRun(request, request.params.id, request.body)),
  );
  app.delete(
    '/datasets/:id/items/:itemId',
    {
      config: { permission: 'workflow:update' },
      schema: {
        tags,
        summary: 'Remove an item (from the next version; older versions keep it)',
        params: z.object({ id: z.uuid(), itemId: z.uuid() }),
        response: { 200: datasetItemSchema },
      },
    },
    async (request) => service.removeItem(request, request.params.id, request.params.itemId),
  );
};
