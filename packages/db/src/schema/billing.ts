import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  check,
  date,
  index,
  integer,
  numeric,
  pgTable,
  primaryKey,
  uniqueIndex,
  uuid,
  varchar,
} from 'drizzle-orm/pg-core';
import { createdAt, id, jsonb, oneOf, tenantPolicy, tstz, updatedAt } from './columns.ts';
import { organizations } from './organizations.ts';

export const USAGE_TYPES = [
  'workflow_execution',
  'tokens',
  'api_call',
  'conversation_message',
  'storage',
  'plan_change',
] as const;
export type UsageType = (typeof USAGE_TYPES)[number];

/**
 * The usage ledger (seed 000 usage_records): one row per thing that is billed, written in the same
 * transaction as what it measures (runs and model-call attempts by triggers on their tables). Append-only
 * for the application role, except the open hour's `api_call` counter (its quantity only grows).
 * `source_key` makes each write idempotent: a retried write of the same source bills once.
 */
export const usageRecords = pgTable(
  'usage_records',
  {
    id: id(),
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    usageType: varchar('usage_type', { length: 40 }).$type<UsageType>().notNull(),
    quantity: bigint('quantity', { mode: 'number' }).notNull(),
    unit: varchar('unit', { length: 20 }).notNull(),
    /** USD per unit, when the usage has a price of its own (model tokens: the call's cost / tokens). */
    unitPrice: numeric('unit_price', { precision: 20, scale: 12 }),
    /** USD the usage cost at the time (model calls: the exact cost the engine recorded). */
    totalCost: numeric('total_cost', { precision: 14, scale: 6 }).notNull().default('0'),
    periodStart: date('period_start', { mode: 'string' }).notNull(),
    periodEnd: date('period_end', { mode: 'string' }).notNull(),
    occurredAt: tstz('occurred_at').notNull().defaultNow(),
    resourceType: varchar('resource_type', { length: 40 }),
    resourceId: uuid('resource_id'),
    workflowId: uuid('workflow_id'),
    apiKeyId: uuid('api_key_id'),
    model: varchar('model', { length: 255 }),
    inputTokens: bigint('input_tokens', { mode: 'number' }).notNull().default(0),
    outputTokens: bigint('output_tokens', { mode: 'number' }).notNull().default(0),
    cachedTokens: bigint('cached_tokens', { mode: 'number' }).notNull().default(0),
    details: jsonb('details').$type<Record<string, unknown>>().notNull().default({}),
    sourceKey: varchar('source_key', { length: 255 }).notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('usage_records_source_key').on(t.organizationId, t.sourceKey),
    index('idx_usage_org_period').on(t.organizationId, t.periodStart, t.usageType),
    index('idx_usage_org_occurred').on(t.organizationId, t.occurredAt),
    check('usage_records_type_check', oneOf(t.usageType, USAGE_TYPES)),
    check('usage_records_quantity_check', sql`${t.quantity} >= 0`),
    check('usage_records_cost_check', sql`${t.totalCost} >= 0`),
    tenantPolicy(t.organizationId),
  ],
);

export const INVOICE_STATUSES = ['draft', 'sent', 'paid', 'overdue', 'cancelled'] as const;
export type InvoiceStatus = (typeof INVOICE_STATUSES)[number];

export interface InvoiceLine {
  kind: 'plan' | 'overage' | 'tokens' | 'marketplace' | 'proration' | 'credit';
  description: string;
  quantity: string;
  unitPrice: string;
  amount: string;
}

/**
 * An invoice (seed 000 invoices) for one organization and billing period; numbers are gapless per year
 * (`invoice_sequences`), and an invoice is never deleted: cancelling one issues a credit note.
 */
export const invoices = pgTable(
  'invoices',
  {
    id: id(),
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    invoiceNumber: varchar('invoice_number', { length: 32 }).notNull(),
    /** 'invoice', or 'credit_note' (cancels `creditFor`). */
    kind: varchar('kind', { length: 20 }).notNull().default('invoice'),
    creditFor: uuid('credit_for'),
    status: varchar('status', { length: 20 }).$type<InvoiceStatus>().notNull().default('draft'),
    periodStart: date('period_start', { mode: 'string' }).notNull(),
    periodEnd: date('period_end', { mode: 'string' }).notNull(),
    currency: varchar('currency', { length: 3 }).notNull().default('USD'),
    subtotal: numeric('subtotal', { precision: 12, scale: 2 }).notNull(),
    taxRate: numeric('tax_rate', { precision: 6, scale: 4 }).notNull().default('0'),
    tax: numeric('tax', { precision: 12, scale: 2 }).notNull(),
    total: numeric('total', { precision: 12, scale: 2 }).notNull(),
    taxNote: varchar('tax_note', { length: 500 }),
    issueDate: date('issue_date', { mode: 'string' }).notNull(),
    dueDate: date('due_date', { mode: 'string' }).notNull(),
    paidDate: date('paid_date', { mode: 'string' }),
    sentAt: tstz('sent_at'),
    lineItems: jsonb('line_items').$type<InvoiceLine[]>().notNull(),
    /** Who is billed, as it was when the invoice was made (name, email, address, VAT id). */
    billedTo: jsonb('billed_to').$type<Record<string, unknown>>().notNull().default({}),
    paymentProvider: varchar('payment_provider', { length: 40 }),
    paymentTransactionId: varchar('payment_transaction_id', { length: 255 }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('invoices_number_key').on(t.invoiceNumber),
    // One invoice per organization and period (a credit note does not count).
    uniqueIndex('invoices_org_period_key')
      .on(t.organizationId, t.periodStart)
      .where(sql`${t.kind} = 'invoice'`),
    index('idx_invoices_org').on(t.organizationId, t.issueDate.desc()),
    index('idx_invoices_status').on(t.status, t.dueDate),
    check('invoices_status_check', oneOf(t.status, INVOICE_STATUSES)),
    check('invoices_kind_check', oneOf(t.kind, ['invoice', 'credit_note'])),
    tenantPolicy(t.organizationId),
  ],
);

/** The last invoice number issued per year; taken under the row's lock, so numbers are gapless. */
export const invoiceSequences = pgTable('invoice_sequences', {
  year: integer('year').primaryKey(),
  lastNumber: integer('last_number').notNull(),
});

/** Tax rates by billing country (ISO 3166-1 alpha-2); an operator's table, read by invoicing. */
export const taxRates = pgTable(
  'tax_rates',
  {
    country: varchar('country', { length: 2 }).notNull(),
    name: varchar('name', { length: 60 }).notNull(),
    rate: numeric('rate', { precision: 6, scale: 4 }).notNull(),
    /** Business customers with a VAT id in this country are reverse charged (EU B2B). */
    reverseCharge: boolean('reverse_charge').notNull().default(false),
    updatedAt: updatedAt(),
  },
  (t) => [primaryKey({ columns: [t.country] })],
);
