import {
  billingAccountSchema,
  billingSettingsSchema,
  idParamsSchema,
  invoiceListSchema,
  invoiceSchema,
  planChangeSchema,
  planSchema,
  usageQuerySchema,
  usageReportSchema,
} from '@aiops/contracts';
import { badRequest, notFound, PLAN_TIERS, PLANS } from '@aiops/core';
import { invoices } from '@aiops/db';
import { and, desc, eq } from 'drizzle-orm';
import { z } from 'zod';
import { authOf } from '../../http/auth.ts';
import { audit, tenant } from '../../http/tenant.ts';
import type { AppModule } from '../../module.ts';
import type { PaymentPort } from '../../services/payments.ts';
import { billingAccount, changePlan, updateBillingSettings } from './account.ts';
import { invoicePdf } from './delivery.ts';
import { type InvoiceRow, payInvoice } from './invoices.ts';
import { periodOf } from './ledger.ts';
import { usageReport } from './usage-report.ts';

const tags = ['billing'];
const DAY_MS = 86_400_000;

export const toInvoiceDto = (r: InvoiceRow) => ({
  id: r.id,
  invoiceNumber: r.invoiceNumber,
  kind: r.kind as 'invoice' | 'credit_note',
  creditFor: r.creditFor,
  status: r.status,
  periodStart: r.periodStart,
  periodEnd: r.periodEnd,
  currency: r.currency,
  subtotal: r.subtotal,
  taxRate: r.taxRate,
  tax: r.tax,
  total: r.total,
  taxNote: r.taxNote,
  issueDate: r.issueDate,
  dueDate: r.dueDate,
  paidDate: r.paidDate,
  sentAt: r.sentAt ? r.sentAt.toISOString() : null,
  lineItems: r.lineItems,
  billedTo: r.billedTo,
});

/** Usage ledger, plans, billing settings, plan changes and invoices (issue 20). */
export const billingModule: AppModule = (deps) => async (app) => {
  const payments: PaymentPort = deps.payments;

  app.get(
    '/usage',
    {
      config: { permission: 'billing:read' },
      schema: {
        tags,
        summary: 'The usage ledger between two instants, grouped by type, day, workflow or API key',
        querystring: usageQuerySchema,
        response: { 200: usageReportSchema },
      },
    },
    async (request) => {
      const q = request.query;
      const to = q.to ? new Date(q.to) : new Date();
      const from = q.from ? new Date(q.from) : new Date(`${periodOf(to).start}T00:00:00Z`);
      if (from >= to)
        throw badRequest('from must be before to', { issues: [{ path: 'query.from', message: 'after to' }] });
      if (to.getTime() - from.getTime() > 400 * DAY_MS)
        throw badRequest('Ask for at most 400 days at a time', {
          issues: [{ path: 'query.from', message: 'more than 400 days before to' }],
        });
      return tenant(request, (tx) => usageReport(tx, { groupBy: q.groupBy, from, to, type: q.type }));
    },
  );

  app.get(
    '/billing/plans',
    {
      config: { permission: 'authenticated' },
      schema: {
        tags,
        summary: 'The plans (tiers) and what each includes',
        response: { 200: z.array(planSchema) },
      },
    },
    async () => PLAN_TIERS.map((t) => PLANS[t]),
  );

  app.get(
    '/billing',
    {
      config: { permission: 'billing:read' },
      schema: {
        tags,
        summary: "The organization's plan, this month's usage against its allowances, billing details",
        response: { 200: billingAccountSchema },
      },
    },
    async (request) => tenant(request, (tx) => billingAccount(tx, authOf(request).organizationId)),
  );

  app.patch(
    '/billing/settings',
    {
      config: { permission: 'billing:manage' },
      schema: {
        tags,
        summary: 'Billing email, address (country decides the tax) and VAT id',
        body: billingSettingsSchema,
        response: { 200: billingAccountSchema },
      },
    },
    async (request) =>
      tenant(request, async (tx) => {
        const orgId = authOf(request).organizationId;
        const { before, after } = await updateBillingSettings(tx, orgId, request.body);
        await audit(tx, request, {
          entityType: 'billing',
          entityId: orgId,
          action: 'updated',
          before,
          after,
        });
        return billingAccount(tx, orgId);
      }),
  );

  app.post(
    '/billing/plan',
    {
      config: { permission: 'billing:manage' },
      schema: {
        tags,
        summary: 'Change the plan now; the month is prorated by day between the plans',
        body: planChangeSchema,
        response: { 200: billingAccountSchema },
      },
    },
    async (request) => {
      const r = await tenant(request, async (tx) => {
        const orgId = authOf(request).organizationId;
        const change = await changePlan(tx, orgId, request.body.tier);
        await audit(tx, request, {
          entityType: 'organization',
          entityId: orgId,
          action: 'plan_changed',
          before: { subscriptionTier: change.from },
          after: { subscriptionTier: change.to },
        });
        return billingAccount(tx, orgId);
      });
      return r;
    },
  );

  app.get(
    '/billing/invoices',
    {
      config: { permission: 'billing:read' },
      schema: {
        tags,
        summary: 'Invoices and credit notes, newest first',
        response: { 200: invoiceListSchema },
      },
    },
    async (request) =>
      tenant(request, async (tx) => ({
        data: (
          await tx
            .select()
            .from(invoices)
            .orderBy(desc(invoices.issueDate), desc(invoices.invoiceNumber))
            .limit(500)
        ).map(toInvoiceDto),
      })),
  );

  const findInvoice = (request: Parameters<typeof tenant>[0], id: string) =>
    tenant(request, async (tx) => {
      const [row] = await tx
        .select()
        .from(invoices)
        .where(and(eq(invoices.id, id), eq(invoices.organizationId, authOf(request).organizationId)));
      if (!row) throw notFound('invoice', id);
      return row;
    });

  app.get(
    '/billing/invoices/:id',
    {
      config: { permission: 'billing:read' },
      schema: { tags, summary: 'One invoice', params: idParamsSchema, response: { 200: invoiceSchema } },
    },
    async (request) => toInvoiceDto(await findInvoice(request, request.params.id)),
  );

  app.get(
    '/billing/invoices/:id/pdf',
    {
      config: { permission: 'billing:read' },
      schema: { tags, summary: 'The invoice as a PDF', params: idParamsSchema },
    },
    async (request, reply) => {
      const row = await findInvoice(request, request.params.id);
      const pdf = await invoicePdf(deps.db, row);
      return reply
        .type('application/pdf')
        .header('content-disposition', `attachment; filename="${row.invoiceNumber}.pdf"`)
        .send(pdf);
    },
  );

  app.post(
    '/billing/invoices/:id/pay',
    {
      config: { permission: 'billing:manage' },
      schema: {
        tags,
        summary:
          'Pay a sent or overdue invoice through the payment provider (manual: pending until marked paid)',
        params: idParamsSchema,
        response: {
          200: z.object({
            invoice: invoiceSchema,
            payment: z.object({ status: z.string(), transactionId: z.string() }),
          }),
        },
      },
    },
    async (request) => {
      const auth = authOf(request);
      await findInvoice(request, request.params.id);
      const r = await payInvoice(deps.db, payments, request.params.id, {
        userId: auth.userId,
        apiKeyId: auth.apiKeyId,
      });
      await tenant(request, (tx) =>
        audit(tx, request, {
          entityType: 'invoice',
          entityId: r.invoice.id,
          action: 'payment_requested',
          after: { provider: payments.name, status: r.payment.status },
        }),
      );
      return { invoice: toInvoiceDto(r.invoice), payment: r.payment };
    },
  );
};
