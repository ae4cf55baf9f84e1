import {
  createPriceOverrideBodySchema,
  idParamsSchema,
  priceListSchema,
  priceOverrideSchema,
  priceQuerySchema,
  resolvedPriceSchema,
  resolvePriceQuerySchema,
} from '@aiops/contracts';
import type { AppModule } from '../../module.ts';
import * as service from './service.ts';

const tags = ['prices'];

/**
 * The price catalog shipped with the product, and the organization's overrides (negotiated or custom
 * prices), which win over the catalog for the same model and day.
 */
export const pricesModule: AppModule = (deps) => async (app) => {
  app.get(
    '/prices',
    {
      config: { permission: 'billing:read' },
      schema: {
        tags,
        summary: 'The catalog and the organization overrides (USD per million tokens)',
        querystring: priceQuerySchema,
        response: { 200: priceListSchema },
      },
    },
    async (request) => service.listPrices(request, request.query.model),
  );
  app.get(
    '/prices/resolve',
    {
      config: { permission: 'billing:read' },
      schema: {
        tags,
        summary: 'The price that applies to a model at a time, and whether it is an override',
        querystring: resolvePriceQuerySchema,
        response: { 200: resolvedPriceSchema },
      },
    },
    async (request) => service.resolvePrice(request, deps.prices, request.query.model, request.query.at),
  );
  app.post(
    '/prices',
    {
      config: { permission: 'billing:manage' },
      schema: {
        tags,
        summary: 'Add a price override',
        body: createPriceOverrideBodySchema,
        response: { 201: priceOverrideSchema },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await service.createPrice(request, deps.prices, request.body)),
  );
  app.put(
    '/prices/:id',
    {
      config: { permission: 'billing:manage' },
      schema: {
        tags,
        summary: 'Replace a price override',
        params: idParamsSchema,
        body: createPriceOverrideBodySchema,
        response: { 200: priceOverrideSchema },
      },
    },
    async (request) => service.replacePrice(request, deps.prices, request.params.id, request.body),
  );
  app.delete(
    '/prices/:id',
    {
      config: { permission: 'billing:manage' },
      schema: {
        tags,
        summary: 'Remove a price override',
        params: idParamsSchema,
      },
    },
    async (request, reply) => {
      await service.deletePrice(request, deps.prices, request.params.id);
      return reply.status(204).send();
    },
  );
};
