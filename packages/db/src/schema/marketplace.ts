import { sql } from 'drizzle-orm';
import {
  boolean,
  check,
  index,
  integer,
  numeric,
  pgPolicy,
  pgTable,
  text,
  uniqueIndex,
  uuid,
  varchar,
} from 'drizzle-orm/pg-core';
import { createdAt, currentOrgId, id, jsonb, oneOf, tenantPolicy, tstz, updatedAt } from './columns.ts';
import { organizations } from './organizations.ts';
import { users } from './users.ts';

const currentUserId = sql`nullif(current_setting('app.user_id', true), '')::uuid`;

/** What an agent made from a template needs of it; stored whole in each `ai_template_versions` row. */
export interface TemplateContent {
  name: string;
  description: string | null;
  avatarUrl: string | null;
  category: string | null;
  capabilities: string[];
  systemPrompt: string;
  promptTemplate: string;
  functions: unknown[];
  personalityConfig: Record<string, unknown>;
  knowledgeSources: unknown[];
  modelConfig: Record<string, unknown>;
  allowedIntegrations: string[];
  costLimitPerRequest: string | null;
}

/**
 * Seed 001's `ai_templates`: an agent packaged for reuse (system prompt, functions, personality, knowledge
 * sources, model config, allowed integrations, cost limit per request), versioned. Private to its
 * organization: the marketplace shows only its `marketplace_listings` row. An installed copy (a purchase)
 * names the listing it came from in `source_listing_id`.
 */
export const aiTemplates = pgTable(
  'ai_templates',
  {
    id: id(),
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    userId: uuid('user_id').references(() => users.id, { onDelete: 'set null' }),
    name: varchar('name', { length: 255 }).notNull(),
    description: text('description'),
    avatarUrl: text('avatar_url'),
    category: varchar('category', { length: 100 }),
    capabilities: jsonb('capabilities').$type<string[]>().notNull().default([]),
    systemPrompt: text('system_prompt').notNull(),
    promptTemplate: text('prompt_template').notNull().default('{{input.text}}'),
    functions: jsonb('functions').$type<unknown[]>().notNull().default([]),
    personalityConfig: jsonb('personality_config').$type<Record<string, unknown>>().notNull().default({}),
    knowledgeSources: jsonb('knowledge_sources').$type<unknown[]>().notNull().default([]),
    modelConfig: jsonb('model_config').$type<Record<string, unknown>>().notNull().default({}),
    allowedIntegrations: jsonb('allowed_integrations').$type<string[]>().notNull().default([]),
    costLimitPerRequest: numeric('cost_limit_per_request', { precision: 10, scale: 2 }),
    version: integer('version').notNull().default(1),
    isPublic: boolean('is_public').notNull().default(false),
    isMarketplace: boolean('is_marketplace').notNull().default(false),
    price: numeric('price', { precision: 10, scale: 2 }),
    usageCount: integer('usage_count').notNull().default(0),
    rating: numeric('rating', { precision: 3, scale: 2 }).notNull().default('0.00'),
    sourceAgentId: uuid('source_agent_id'),
    sourceListingId: uuid('source_listing_id'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    index('idx_ai_templates_org').on(t.organizationId, t.createdAt.desc()),
    index('idx_ai_templates_is_marketplace').on(t.isMarketplace),
    check('ai_templates_price_check', sql`${t.price} is null or ${t.price} >= 0`),
    tenantPolicy(t.organizationId),
  ],
);

export const aiTemplateVersions = pgTable(
  'ai_template_versions',
  {
    id: id(),
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    templateId: uuid('template_id')
      .notNull()
      .references(() => aiTemplates.id, { onDelete: 'cascade' }),
    version: integer('version').notNull(),
    content: jsonb('content').$type<TemplateContent>().notNull(),
    createdBy: uuid('created_by').references(() => users.id, { onDelete: 'set null' }),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('ai_template_versions_key').on(t.templateId, t.version),
    tenantPolicy(t.organizationId),
  ],
);

export const LISTING_STATUSES = ['pending', 'published', 'unpublished', 'error'] as const;
export type ListingStatus = (typeof LISTING_STATUSES)[number];

/**
 * The public face of a template (seed 002's marketplace_integrations states): only the fields a buyer may
 * see. Every organization reads published listings; only the seller's organization writes them. Rating
 * and usage aggregates are kept by SECURITY DEFINER functions (buyers cannot write this row).
 */
export const marketplaceListings = pgTable(
  'marketplace_listings',
  {
    id: id(),
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    templateId: uuid('template_id')
      .notNull()
      .references(() => aiTemplates.id, { onDelete: 'cascade' }),
    sellerId: uuid('seller_id').references(() => users.id, { onDelete: 'set null' }),
    sellerName: varchar('seller_name', { length: 255 }).notNull(),
    name: varchar('name', { length: 255 }).notNull(),
    description: text('description'),
    avatarUrl: text('avatar_url'),
    category: varchar('category', { length: 100 }),
    capabilities: jsonb('capabilities').$type<string[]>().notNull().default([]),
    allowedIntegrations: jsonb('allowed_integrations').$type<string[]>().notNull().default([]),
    price: numeric('price', { precision: 10, scale: 2 }).notNull().default('0.00'),
    currency: varchar('currency', { length: 3 }).notNull().default('USD'),
    templateVersion: integer('template_version').notNull(),
    status: varchar('status', { length: 20 }).$type<ListingStatus>().notNull().default('pending'),
    publishedAt: tstz('published_at'),
    unpublishedAt: tstz('unpublished_at'),
    lastError: text('last_error'),
    usageCount: integer('usage_count').notNull().default(0),
    ratingSum: integer('rating_sum').notNull().default(0),
    ratingCount: integer('rating_count').notNull().default(0),
    rating: numeric('rating', { precision: 3, scale: 2 }).notNull().default('0.00'),
    usageMetrics: jsonb('usage_metrics').$type<Record<string, unknown>>().notNull().default({}),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('marketplace_listings_template_key').on(t.templateId),
    index('idx_marketplace_status').on(t.status, t.rating.desc()),
    check('marketplace_listings_status_check', oneOf(t.status, LISTING_STATUSES)),
    check('marketplace_listings_price_check', sql`${t.price} >= 0`),
    pgPolicy('listing_read', {
      as: 'permissive',
      for: 'select',
      to: 'public',
      using: sql`${t.status} = 'published' OR ${t.organizationId} = ${currentOrgId}`,
    }),
    pgPolicy('listing_insert', {
      as: 'permissive',
      for: 'insert',
      to: 'public',
      withCheck: sql`${t.organizationId} = ${currentOrgId}`,
    }),
    pgPolicy('listing_update', {
      as: 'permissive',
      for: 'update',
      to: 'public',
      using: sql`${t.organizationId} = ${currentOrgId}`,
      withCheck: sql`${t.organizationId} = ${currentOrgId}`,
    }),
    pgPolicy('listing_delete', {
      as: 'permissive',
      for: 'delete',
      to: 'public',
      using: sql`${t.organizationId} = ${currentOrgId}`,
    }),
  ],
);

export const PAYMENT_STATUSES = ['pending', 'completed', 'failed', 'refunded'] as const;
export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];

/**
 * Seed 001's `template_purchases`: price, 30% platform fee and seller payout (exact decimals), one
 * transaction id. Visible to the buyer's and the seller's organizations, nobody else.
 */
export const templatePurchases = pgTable(
  'template_purchases',
  {
    id: id(),
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    buyerId: uuid('buyer_id').references(() => users.id, { onDelete: 'set null' }),
    listingId: uuid('listing_id')
      .notNull()
      .references(() => marketplaceListings.id, { onDelete: 'restrict' }),
    sellerOrganizationId: uuid('seller_organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    templateName: varchar('template_name', { length: 255 }).notNull(),
    templateVersion: integer('template_version').notNull(),
    price: numeric('price', { precision: 10, scale: 2 }).notNull(),
    platformFee: numeric('platform_fee', { precision: 10, scale: 2 }).notNull(),
    sellerPayout: numeric('seller_payout', { precision: 10, scale: 2 }).notNull(),
    currency: varchar('currency', { length: 3 }).notNull().default('USD'),
    paymentStatus: varchar('payment_status', { length: 20 })
      .$type<PaymentStatus>()
      .notNull()
      .default('pending'),
    paymentMethod: varchar('payment_method', { length: 50 }),
    transactionId: varchar('transaction_id', { length: 255 }),
    idempotencyKey: varchar('idempotency_key', { length: 255 }).notNull(),
    installedTemplateId: uuid('installed_template_id'),
    purchasedAt: createdAt(),
    completedAt: tstz('completed_at'),
    refundedAt: tstz('refunded_at'),
  },
  (t) => [
    uniqueIndex('template_purchases_idempotency_key').on(t.organizationId, t.idempotencyKey),
    index('idx_template_purchases_buyer').on(t.organizationId, t.purchasedAt.desc()),
    index('idx_template_purchases_seller').on(t.sellerOrganizationId, t.purchasedAt.desc()),
    index('idx_template_purchases_listing').on(t.listingId),
    check('template_purchases_status_check', oneOf(t.paymentStatus, PAYMENT_STATUSES)),
    check(
      'template_purchases_sum_check',
      sql`${t.platformFee} >= 0 and ${t.sellerPayout} >= 0 and ${t.platformFee} + ${t.sellerPayout} = ${t.price}`,
    ),
    pgPolicy('purchase_read', {
      as: 'permissive',
      for: 'select',
      to: 'public',
      using: sql`${t.organizationId} = ${currentOrgId} OR ${t.sellerOrganizationId} = ${currentOrgId}`,
    }),
    pgPolicy('purchase_insert', {
      as: 'permissive',
      for: 'insert',
      to: 'public',
      withCheck: sql`${t.organizationId} = ${currentOrgId}`,
    }),
    pgPolicy('purchase_update', {
      as: 'permissive',
      for: 'update',
      to: 'public',
      using: sql`${t.organizationId} = ${currentOrgId} OR ${t.sellerOrganizationId} = ${currentOrgId}`,
      withCheck: sql`${t.organizationId} = ${currentOrgId} OR ${t.sellerOrganizationId} = ${currentOrgId}`,
    }),
  ],
);

/**
 * Seed 001's `template_ratings`: 1–5 with an optional review, one per user per listing (a second
 * replaces the first). Written by the rater's organization; readable by everyone who can read the listing.
 */
export const templateRatings = pgTable(
  'template_ratings',
  {
    id: id(),
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    userName: varchar('user_name', { length: 255 }),
    listingId: uuid('listing_id')
      .notNull()
      .references(() => marketplaceListings.id, { onDelete: 'cascade' }),
    rating: integer('rating').notNull(),
    review: text('review'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('template_ratings_user_listing_key').on(t.userId, t.listingId),
    index('idx_template_ratings_listing').on(t.listingId, t.updatedAt.desc()),
    check('template_ratings_rating_check', sql`${t.rating} between 1 and 5`),
    pgPolicy('rating_read', {
      as: 'permissive',
      for: 'select',
      to: 'public',
      using: sql`${t.organizationId} = ${currentOrgId} OR EXISTS (SELECT 1 FROM marketplace_listings l WHERE l.id = ${t.listingId})`,
    }),
    pgPolicy('rating_write', {
      as: 'permissive',
      for: 'insert',
      to: 'public',
      withCheck: sql`${t.organizationId} = ${currentOrgId} AND ${t.userId} = ${currentUserId}`,
    }),
    pgPolicy('rating_update', {
      as: 'permissive',
      for: 'update',
      to: 'public',
      using: sql`${t.organizationId} = ${currentOrgId} AND ${t.userId} = ${currentUserId}`,
      withCheck: sql`${t.organizationId} = ${currentOrgId} AND ${t.userId} = ${currentUserId}`,
    }),
  ],
);
