import { sql } from 'drizzle-orm';
import {
  check,
  date,
  index,
  integer,
  numeric,
  pgPolicy,
  pgTable,
  uniqueIndex,
  varchar,
} from 'drizzle-orm/pg-core';
import { createdAt, currentOrgId, id, jsonb, oneOf, tstz, updatedAt } from './columns.ts';

export const SUBSCRIPTION_TIERS = ['starter', 'professional', 'business', 'enterprise'] as const;
export type SubscriptionTier = (typeof SUBSCRIPTION_TIERS)[number];
export const ORGANIZATION_STATUSES = ['active', 'suspended', 'cancelled'] as const;
export type OrganizationStatus = (typeof ORGANIZATION_STATUSES)[number];

/**
 * A customer account (seed 000 organizations + seed 002 slug + seed 004). The tenant itself: its row is
 * visible only inside its own tenant context. Seed 000's `api_keys` and `integrations` JSONB columns
 * became the `api_keys` and `integrations` tables.
 */
export const organizations = pgTable(
  'organizations',
  {
    id: id(),
    name: varchar('name', { length: 255 }).notNull(),
    slug: varchar('slug', { length: 100 }).notNull(),
    subscriptionTier: varchar('subscription_tier', { length: 20 })
      .$type<SubscriptionTier>()
      .notNull()
      .default('starter'),
    status: varchar('status', { length: 20 }).$type<OrganizationStatus>().notNull().default('active'),
    billingEmail: varchar('billing_email', { length: 255 }),
    billingAddress: jsonb('billing_address').$type<Record<string, unknown>>(),
    paymentMethodId: varchar('payment_method_id', { length: 255 }),
    /** The customer's VAT id (business customers; EU reverse charge). */
    vatId: varchar('vat_id', { length: 32 }),
    monthlyExecutionQuota: integer('monthly_execution_quota').notNull().default(500),
    monthlyExecutionsUsed: integer('monthly_executions_used').notNull().default(0),
    monthlyResetDate: date('monthly_reset_date', { mode: 'string' }),
    /** USD spent on model calls this month (reset with the execution counter). */
    monthlyCostUsed: numeric('monthly_cost_used', { precision: 14, scale: 6 }).notNull().default('0'),
    /**
     * When billing began for the organization: its creation, or the billing migration for organizations
     * that existed before. Month-end invoices never cover time before it.
     */
    billingStartedAt: tstz('billing_started_at').notNull().defaultNow(),
    settings: jsonb('settings').$type<Record<string, unknown>>().notNull().default({}),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    deletedAt: tstz('deleted_at'),
  },
  (t) => [
    uniqueIndex('organizations_slug_key').on(t.slug),
    index('idx_organizations_status').on(t.status),
    index('idx_organizations_tier').on(t.subscriptionTier),
    check('organizations_subscription_tier_check', oneOf(t.subscriptionTier, SUBSCRIPTION_TIERS)),
    check('organizations_status_check', oneOf(t.status, ORGANIZATION_STATUSES)),
    check(
      'organizations_quota_check',
      sql`${t.monthlyExecutionQuota} >= 0 and ${t.monthlyExecutionsUsed} >= 0`,
    ),
    pgPolicy('tenant_isolation', {
      as: 'permissive',
      for: 'all',
      to: 'public',
      using: sql`${t.id} = ${currentOrgId}`,
      withCheck: sql`${t.id} = ${currentOrgId}`,
    }),
  ],
);
