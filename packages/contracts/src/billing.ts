import { z } from 'zod';
import { emailSchema } from './auth.ts';

export const USAGE_GROUPS = ['type', 'day', 'workflow', 'apiKey'] as const;
const money = z
  .string()
  .regex(/^-?\d+(\.\d+)?$/)
  .describe('decimal string, USD');

export const usageQuerySchema = z
  .object({
    groupBy: z.enum(USAGE_GROUPS).default('type'),
    from: z.iso.datetime({ offset: true }).optional().describe('default: start of the current month (UTC)'),
    to: z.iso.datetime({ offset: true }).optional().describe('default: now'),
    type: z
      .enum(['workflow_execution', 'tokens', 'api_call', 'conversation_message', 'storage', 'plan_change'])
      .optional(),
  })
  .strict();

const usageTotals = z.object({
  records: z.number().int(),
  quantity: z.number().describe('sum of quantities (runs, tokens, requests, messages, byte-days)'),
  cost: money.describe('sum of the recorded cost (model calls), USD'),
  inputTokens: z.number(),
  outputTokens: z.number(),
  cachedTokens: z.number(),
});

export const usageReportSchema = z
  .object({
    groupBy: z.enum(USAGE_GROUPS),
    from: z.string(),
    to: z.string(),
    total: usageTotals,
    groups: z.array(
      usageTotals.extend({
        key: z.string().nullable().describe('usage type, day (YYYY-MM-DD), workflow id or API key id'),
        type: z.string().nullable().describe('the usage type, when grouped by something else'),
      }),
    ),
  })
  .meta({ id: 'UsageReport' });

export const planSchema = z
  .object({
    /** the canonical tiers of @aiops/core's PLAN_TIERS (an alias such as `pro` is answered as its tier) */
    tier: z.enum(['starter', 'professional', 'business', 'enterprise']),
    name: z.string(),
    monthlyPrice: money,
    includedExecutions: z.number(),
    executionCap: z.number(),
    executionOveragePrice: money,
    includedTokens: z.number(),
    tokenOveragePricePer1k: money,
    rateLimits: z.object({ userPerMinute: z.number(), orgPerMinute: z.number() }),
    seats: z.number().nullable(),
    resources: z.object({
      seedTier: z.string(),
      cpuLimit: z.number(),
      memoryLimitMb: z.number(),
      networkIsolation: z.string(),
      code: z
        .object({
          memoryMb: z.number(),
          cpuMs: z.number(),
          wallMs: z.number(),
          network: z.boolean(),
        })
        .describe('limits of one code step in the sandbox'),
    }),
  })
  .meta({ id: 'Plan' });

export const billingAddressSchema = z
  .object({
    line1: z.string().trim().min(1).max(200),
    line2: z.string().trim().max(200).optional(),
    city: z.string().trim().min(1).max(100),
    postalCode: z.string().trim().max(20).optional(),
    region: z.string().trim().max(100).optional(),
    country: z
      .string()
      .regex(/^[A-Z]{2}$/, 'an ISO 3166-1 alpha-2 code in capitals, e.g. DE')
      .describe('ISO 3166-1 alpha-2'),
  })
  .strict();

export const billingAccountSchema = z
  .object({
    plan: planSchema,
    period: z.object({ start: z.string(), end: z.string() }),
    billingEmail: z.string().nullable(),
    billingAddress: billingAddressSchema.nullable(),
    vatId: z.string().nullable(),
    monthlyResetDate: z.string().nullable(),
    usage: z.object({
      executions: z.object({ used: z.number(), included: z.number(), cap: z.number() }),
      tokens: z.object({ used: z.number(), included: z.number() }),
      apiCalls: z.number(),
      seats: z.object({ used: z.number(), included: z.number().nullable() }),
      modelCost: money,
    }),
    estimate: z.object({ subtotal: money, lines: z.number() }).describe('the invoice so far, before tax'),
  })
  .meta({ id: 'BillingAccount' });

export const billingSettingsSchema = z
  .object({
    billingEmail: emailSchema.nullable().optional(),
    billingAddress: billingAddressSchema.nullable().optional(),
    vatId: z
      .string()
      .trim()
      .regex(/^[A-Z]{2}[A-Z0-9+*.]{2,13}$/, 'a VAT id: country prefix and 2–13 characters, e.g. DE123456789')
      .nullable()
      .optional(),
  })
  .strict();

export const planChangeSchema = z
  .object({ tier: z.enum(['starter', 'professional', 'business', 'enterprise', 'basic', 'pro']) })
  .strict();

export const invoiceLineSchema = z.object({
  kind: z.string(),
  description: z.string(),
  quantity: z.string(),
  unitPrice: money,
  amount: money,
});

export const invoiceSchema = z
  .object({
    id: z.uuid(),
    invoiceNumber: z.string(),
    kind: z.enum(['invoice', 'credit_note']),
    creditFor: z.uuid().nullable(),
    status: z.enum(['draft', 'sent', 'paid', 'overdue', 'cancelled']),
    periodStart: z.string(),
    periodEnd: z.string(),
    currency: z.string(),
    subtotal: money,
    taxRate: z.string(),
    tax: money,
    total: money,
    taxNote: z.string().nullable(),
    issueDate: z.string(),
    dueDate: z.string(),
    paidDate: z.string().nullable(),
    sentAt: z.string().nullable(),
    lineItems: z.array(invoiceLineSchema),
    billedTo: z.record(z.string(), z.unknown()),
  })
  .meta({ id: 'Invoice' });

export const invoiceListSchema = z.object({ data: z.array(invoiceSchema) }).meta({ id: 'InvoiceList' });

export type UsageReport = z.infer<typeof usageReportSchema>;
export type PlanDto = z.infer<typeof planSchema>;
export type BillingAccount = z.infer<typeof billingAccountSchema>;
export type BillingSettingsBody = z.infer<typeof billingSettingsSchema>;
export type BillingAddress = z.infer<typeof billingAddressSchema>;
export type InvoiceDto = z.infer<typeof invoiceSchema>;
