import type { ListingDto, RatingDto } from '@aiops/contracts';
import { badRequest, forbidden, notFound } from '@aiops/core';
import { aiTemplates, marketplaceListings, organizations, type Tx, templateRatings, users } from '@aiops/db';
import { and, asc, desc, eq, gte, ilike, lte, or, type SQL, sql } from 'drizzle-orm';
import type { FastifyRequest } from 'fastify';
import { authOf } from '../../http/auth.ts';
import { audit, tenant } from '../../http/tenant.ts';
import type { ListingRow } from '../templates/dto.ts';
import { findTemplate, listingOf } from '../templates/service.ts';
import { splitPrice } from './money.ts';

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** A listing as buyers see it: no private template field exists on this row to leak. */
export function listingDto(l: ListingRow, orgId: string, purchased: boolean): ListingDto {
  return {
    id: l.id,
    templateId: l.templateId,
    organizationId: l.organizationId,
    sellerName: l.sellerName,
    name: l.name,
    description: l.description,
    avatarUrl: l.avatarUrl,
    category: l.category,
    capabilities: l.capabilities,
    allowedIntegrations: l.allowedIntegrations,
    price: l.price,
    currency: l.currency,
    templateVersion: l.templateVersion,
    status: l.status,
    publishedAt: iso(l.publishedAt),
    unpublishedAt: iso(l.unpublishedAt),
    usageCount: l.usageCount,
    rating: l.rating,
    ratingCount: l.ratingCount,
    mine: l.organizationId === orgId,
    purchased,
  };
}

const purchasedBy = (orgId: string) =>
  sql<boolean>`EXISTS (SELECT 1 FROM template_purchases p WHERE p.listing_id = marketplace_listings.id
    AND p.organization_id = ${orgId} AND p.payment_status = 'completed')`;

/** Why a template cannot be listed yet (the listing goes to `error` with these). */
function listingProblems(t: typeof aiTemplates.$inferSelect): string[] {
  const problems: string[] = [];
  if (!t.description?.trim()) problems.push('add a description: buyers read it before they buy');
  if (!t.systemPrompt.trim()) problems.push('add a system prompt');
  if (typeof (t.modelConfig as { model?: unknown }).model !== 'string')
    problems.push('set modelConfig.model (provider:model)');
  return problems;
}

/**
 * Publishes the template's current version at a price (0: free). The listing is written `pending`, then
 * checked: `published`, or `error` with what to fix (a template without a description, system prompt or
 * model is not listed).
 */
export function publish(
  request: FastifyRequest,
  templateId: string,
  body: { price: string; currency: string },
) {
  const auth = authOf(request);
  return tenant(request, async (tx) => {
    const t = await findTemplate(tx, templateId);
    if (t.sourceListingId)
      throw badRequest('This template was bought on the marketplace: only its seller can list it');
    const { price } = splitPrice(body.price);
    const [org] = await tx
      .select({ name: organizations.name })
      .from(organizations)
      .where(eq(organizations.id, auth.organizationId));
    const values = {
      sellerId: auth.userId,
      sellerName: org?.name ?? 'Unknown seller',
      name: t.name,
      description: t.description,
      avatarUrl: t.avatarUrl,
      category: t.category,
      capabilities: t.capabilities,
      allowedIntegrations: t.allowedIntegrations,
      price,
      currency: body.currency,
      templateVersion: t.version,
      status: 'pending' as const,
      lastError: null,
      updatedAt: new Date(),
    };
    const before = await listingOf(tx, templateId);
    let row: ListingRow;
    if (before) {
      [row] = (await tx
        .update(marketplaceListings)
        .set(values)
        .where(eq(marketplaceListings.id, before.id))
        .returning()) as [ListingRow];
    } else {
      [row] = (await tx
        .insert(marketplaceListings)
        .values({ ...values, organizationId: auth.organizationId, templateId })
        .returning()) as [ListingRow];
    }
    const problems = listingProblems(t);
    const now = new Date();
    [row] = (await tx
      .update(marketplaceListings)
      .set(
        problems.length
          ? { status: 'error', lastError: problems.join('; ') }
          : { status: 'published', publishedAt: now, unpublishedAt: null, lastError: null },
      )
      .where(eq(marketplaceListings.id, row.id))
      .returning()) as [ListingRow];
    await tx
      .update(aiTemplates)
      .set({ isMarketplace: row.status === 'published', isPublic: row.status === 'published', price })
      .where(eq(aiTemplates.id, templateId));
    const dto = { ...listingDto(row, auth.organizationId, false), lastError: row.lastError };
    await audit(tx, request, {
      entityType: 'marketplace_listing',
      entityId: row.id,
      action: row.status === 'published' ? 'published' : 'publish_failed',
      before: before ? listingDto(before, auth.organizationId, false) : null,
      after: dto,
    });
    return dto;
  });
}

export function unpublish(request: FastifyRequest, templateId: string) {
  const auth = authOf(request);
  return tenant(request, async (tx) => {
    const before = await listingOf(tx, templateId);
    if (!before) throw notFound('Listing of template', templateId);
    const [row] = (await tx
      .update(marketplaceListings)
      .set({ status: 'unpublished', unpublishedAt: new Date(), updatedAt: new Date() })
      .where(eq(marketplaceListings.id, before.id))
      .returning()) as [ListingRow];
    await tx
      .update(aiTemplates)
      .set({ isMarketplace: false, isPublic: false })
      .where(eq(aiTemplates.id, templateId));
    const dto = { ...listingDto(row, auth.organizationId, false), lastError: row.lastError };
    await audit(tx, request, {
      entityType: 'marketplace_listing',
      entityId: row.id,
      action: 'unpublished',
      before: listingDto(before, auth.organizationId, false),
      after: dto,
    });
    return dto;
  });
}

export interface BrowseQuery {
  q?: string | undefined;
  category?: string | undefined;
  capability?: string | undefined;
  minRating?: number | undefined;
  maxPrice?: string | undefined;
  free?: 'true' | 'false' | undefined;
  sort: 'rating' | 'newest' | 'price' | 'usage';
  limit: number;
  offset: number;
}

/** Published listings of every organization (row-level security shows nothing else but one's own). */
export function browse(request: FastifyRequest, q: BrowseQuery) {
  const orgId = authOf(request).organizationId;
  return tenant(request, async (tx) => {
    const where: (SQL | undefined)[] = [eq(marketplaceListings.status, 'published')];
    if (q.q) {
      const like = `%${q.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      where.push(or(ilike(marketplaceListings.name, like), ilike(marketplaceListings.description, like)));
    }
    if (q.category) where.push(eq(marketplaceListings.category, q.category));
    if (q.capability)
      where.push(sql`${marketplaceListings.capabilities} @> ${JSON.stringify([q.capability])}::jsonb`);
    if (q.minRating !== undefined) where.push(gte(marketplaceListings.rating, q.minRating.toFixed(2)));
    if (q.maxPrice !== undefined) where.push(lte(marketplaceListings.price, q.maxPrice));
    if (q.free === 'true') where.push(eq(marketplaceListings.price, '0'));
    if (q.free === 'false') where.push(sql`${marketplaceListings.price} > 0`);
    const order = {
      rating: [desc(marketplaceListings.rating), desc(marketplaceListings.ratingCount)],
      newest: [desc(marketplaceListings.publishedAt)],
      price: [asc(marketplaceListings.price)],
      usage: [desc(marketplaceListings.usageCount)],
    }[q.sort];
    const rows = await tx
      .select({ l: marketplaceListings, purchased: purchasedBy(orgId) })
      .from(marketplaceListings)
      .where(and(...where))
      .orderBy(...order, asc(marketplaceListings.id))
      .limit(q.limit)
      .offset(q.offset);
    const categories = await tx
      .selectDistinct({ c: marketplaceListings.category })
      .from(marketplaceListings)
      .where(eq(marketplaceListings.status, 'published'));
    return {
      data: rows.map((r) => listingDto(r.l, orgId, r.purchased)),
      categories: categories
        .map((c) => c.c)
        .filter((c): c is string => !!c)
        .sort(),
    };
  });
}

function ratingDto(r: typeof templateRatings.$inferSelect): RatingDto {
  return {
    id: r.id,
    listingId: r.listingId,
    userId: r.userId,
    userName: r.userName,
    rating: r.rating,
    review: r.review,
    createdAt: r.createdAt.toISOString(),
    updatedAt: r.updatedAt.toISOString(),
  };
}

async function visibleListing(tx: Tx, id: string, orgId: string) {
  const [r] = await tx
    .select({ l: marketplaceListings, purchased: purchasedBy(orgId) })
    .from(marketplaceListings)
    .where(eq(marketplaceListings.id, id));
  if (!r) throw notFound('Listing', id);
  return r;
}

/** One listing with its ratings and reviews, newest first. */
export function getListing(request: FastifyRequest, id: string) {
  const orgId = authOf(request).organizationId;
  return tenant(request, async (tx) => {
    const r = await visibleListing(tx, id, orgId);
    const ratings = await tx
      .select()
      .from(templateRatings)
      .where(eq(templateRatings.listingId, id))
      .orderBy(desc(templateRatings.updatedAt))
      .limit(200);
    return { listing: listingDto(r.l, orgId, r.purchased), ratings: ratings.map(ratingDto) };
  });
}

/**
 * A user's rating of a listing their organization bought: a second one replaces the first. The listing's
 * average and count are recomputed under a lock on the listing by the database (trigger), so concurrent
 * ratings keep them exact.
 */
export function rate(
  request: FastifyRequest,
  id: string,
  body: { rating: number; review?: string | null | undefined },
) {
  const auth = authOf(request);
  if (!auth.userId) throw forbidden('Ratings are by people: sign in as a user (not an API key) to rate');
  const userId = auth.userId;
  return tenant(request, async (tx) => {
    const r = await visibleListing(tx, id, auth.organizationId);
    if (r.l.organizationId === auth.organizationId)
      throw badRequest('You cannot rate your own organization’s template');
    if (!r.purchased) throw forbidden('Buy the template first: ratings come from buyers');
    const [u] = await tx
      .select({ fullName: users.fullName, email: users.email })
      .from(users)
      .where(eq(users.id, userId));
    const [row] = await tx
      .insert(templateRatings)
      .values({
        organizationId: auth.organizationId,
        userId,
        userName: u?.fullName ?? u?.email.split('@')[0] ?? null,
        listingId: id,
        rating: body.rating,
        review: body.review ?? null,
      })
      .onConflictDoUpdate({
        target: [templateRatings.userId, templateRatings.listingId],
        set: { rating: body.rating, review: body.review ?? null, updatedAt: new Date() },
      })
      .returning();
    const dto = ratingDto(row!);
    await audit(tx, request, {
      entityType: 'template_rating',
      entityId: dto.id,
      action: 'rated',
      after: dto,
    });
    const after = await visibleListing(tx, id, auth.organizationId);
    return { rating: dto, listing: listingDto(after.l, auth.organizationId, after.purchased) };
  });
}
