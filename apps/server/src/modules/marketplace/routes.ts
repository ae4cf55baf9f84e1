import {
  idParamsSchema,
  listingQuerySchema,
  listingSchema,
  publishTemplateBodySchema,
  purchaseBodySchema,
  purchaseSchema,
  rateBodySchema,
  ratingSchema,
  salesSchema,
  templateSchema,
} from '@aiops/contracts';
import { z } from 'zod';
import type { AppModule } from '../../module.ts';
import { browse, getListing, publish, rate, unpublish } from './listings.ts';
import { confirm, installPurchase, listPurchases, listSales, purchase, refund } from './purchases.ts';

const tags = ['marketplace'];
const listingWithError = listingSchema.extend({ lastError: z.string().nullable() });

/**
 * The marketplace across organizations: listings (the public face of templates), purchases with a 30%
 * platform fee through the PaymentPort, installs, ratings, and the seller's sales and payouts.
 */
export const marketplaceModule: AppModule = (deps) => async (app) => {
  app.post(
    '/templates/:id/publish',
    {
      config: { permission: 'agent:update' },
      schema: {
        tags,
        summary: "Publish the template's current version on the marketplace at a price (0: free)",
        params: idParamsSchema,
        body: publishTemplateBodySchema,
        response: { 200: listingWithError },
      },
    },
    async (request) => publish(request, request.params.id, request.body),
  );
  app.post(
    '/templates/:id/unpublish',
    {
      config: { permission: 'agent:update' },
      schema: {
        tags,
        summary: 'Take the listing off the marketplace (buyers keep what they bought)',
        params: idParamsSchema,
        response: { 200: listingWithError },
      },
    },
    async (request) => unpublish(request, request.params.id),
  );
  app.get(
    '/marketplace/listings',
    {
      config: { permission: 'agent:read' },
      schema: {
        tags,
        summary: 'Browse and search published listings of every organization',
        querystring: listingQuerySchema,
        response: { 200: z.object({ data: z.array(listingSchema), categories: z.array(z.string()) }) },
      },
    },
    async (request) => browse(request, request.query),
  );
  app.get(
    '/marketplace/listings/:id',
    {
      config: { permission: 'agent:read' },
      schema: {
        tags,
        summary: 'One listing with its ratings and reviews',
        params: idParamsSchema,
        response: { 200: z.object({ listing: listingSchema, ratings: z.array(ratingSchema) }) },
      },
    },
    async (request) => getListing(request, request.params.id),
  );
  app.post(
    '/marketplace/listings/:id/purchase',
    {
      config: { permission: 'billing:manage' },
      schema: {
        tags,
        summary: 'Buy a listing (idempotent: the same key returns the same purchase)',
        params: idParamsSchema,
        body: purchaseBodySchema,
        response: { 200: purchaseSchema, 201: purchaseSchema },
      },
    },
    async (request, reply) => {
      const r = await purchase(request, deps.payments, request.params.id, request.body);
      return reply.status(r.created ? 201 : 200).send(r.purchase);
    },
  );
  app.post(
    '/marketplace/listings/:id/ratings',
    {
      config: { permission: 'agent:read' },
      schema: {
        tags,
        summary: 'Rate a bought template 1–5 with an optional review (a second rating replaces the first)',
        params: idParamsSchema,
        body: rateBodySchema,
        response: { 200: z.object({ rating: ratingSchema, listing: listingSchema }) },
      },
    },
    async (request) => rate(request, request.params.id, request.body),
  );
  app.get(
    '/marketplace/purchases',
    {
      config: { permission: 'billing:read' },
      schema: {
        tags,
        summary: "This organization's purchases",
        response: { 200: z.object({ data: z.array(purchaseSchema) }) },
      },
    },
    async (request) => listPurchases(request),
  );
  app.post(
    '/marketplace/purchases/:id/install',
    {
      config: { permission: 'agent:create' },
      schema: {
        tags,
        summary: 'Install a completed purchase as a template of this organization (once)',
        params: idParamsSchema,
        response: { 200: z.object({ purchase: purchaseSchema, template: templateSchema }) },
      },
    },
    async (request) => installPurchase(request, request.params.id),
  );
  app.get(
    '/marketplace/sales',
    {
      config: { permission: 'billing:read' },
      schema: { tags, summary: "The seller's sales and payouts", response: { 200: salesSchema } },
    },
    async (request) => listSales(request),
  );
  app.post(
    '/marketplace/sales/:id/confirm',
    {
      config: { permission: 'billing:manage' },
      schema: {
        tags,
        summary: 'Seller: mark a pending (manual / invoice) payment as received',
        params: idParamsSchema,
        response: { 200: purchaseSchema },
      },
    },
    async (request) => confirm(request, request.params.id),
  );
  app.post(
    '/marketplace/sales/:id/refund',
    {
      config: { permission: 'billing:manage' },
      schema: {
        tags,
        summary: 'Seller: refund a completed purchase through the payment provider',
        params: idParamsSchema,
        response: { 200: purchaseSchema },
      },
    },
    async (request) => refund(request, deps.payments, request.params.id),
  );
};
