import type { PurchaseDto } from '@aiops/contracts';
import { badRequest, conflict, notFound } from '@aiops/core';
import {
  aiTemplates,
  type Database,
  marketplaceListings,
  queryRows,
  type TemplateContent,
  type Tx,
  templatePurchases,
} from '@aiops/db';
import { and, desc, eq, gte, lt, ne, sql } from 'drizzle-orm';
import type { FastifyRequest } from 'fastify';
import { authOf } from '../../http/auth.ts';
import { audit, tenant } from '../../http/tenant.ts';
import type { PaymentPort } from '../../services/payments.ts';
import { columnsOf, templateDto } from '../templates/dto.ts';
import { insertTemplate } from '../templates/service.ts';
import { splitPrice, sum } from './money.ts';

type PurchaseRow = typeof templatePurchases.$inferSelect;
const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function purchaseDto(p: PurchaseRow): PurchaseDto {
  return {
    id: p.id,
    listingId: p.listingId,
    buyerOrganizationId: p.organizationId,
    sellerOrganizationId: p.sellerOrganizationId,
    buyerId: p.buyerId,
    templateName: p.templateName,
    templateVersion: p.templateVersion,
    price: p.price,
    platformFee: p.platformFee,
    sellerPayout: p.sellerPayout,
    currency: p.currency,
    paymentStatus: p.paymentStatus,
    paymentMethod: p.paymentMethod,
    transactionId: p.transactionId,
    installedTemplateId: p.installedTemplateId,
    purchasedAt: p.purchasedAt.toISOString(),
    completedAt: iso(p.completedAt),
    refundedAt: iso(p.refundedAt),
  };
}

async function findPurchase(tx: Tx, id: string): Promise<PurchaseRow> {
  const [p] = await tx.select().from(templatePurchases).where(eq(templatePurchases.id, id));
  if (!p) throw notFound('Purchase', id);
  return p;
}

/**
 * Copies the bought version into the buyer's organization (once). The content comes through
 * `aiops_purchased_content`, which gives it only to the buyer of a completed purchase.
 */
async function install(tx: Tx, p: PurchaseRow, userId: string | null) {
  if (p.installedTemplateId) {
    const [existing] = await tx.select().from(aiTemplates).where(eq(aiTemplates.id, p.installedTemplateId));
    if (existing) return existing;
  }
  const [r] = await queryRows<{ content: TemplateContent | null }>(
    tx,
    sql`SELECT aiops_purchased_content(${p.id}::uuid) AS content`,
  );
  if (!r?.content) throw conflict('The bought version of this template no longer exists');
  const row = await insertTemplate(tx, p.organizationId, userId, {
    ...columnsOf(r.content),
    sourceListingId: p.listingId,
  });
  await tx
    .update(templatePurchases)
    .set({ installedTemplateId: row.id })
    .where(eq(templatePurchases.id, p.id));
  return row;
}

/**
 * Buys a published listing: price, 30% fee and payout fixed now in exact decimals, one purchase per
 * idempotency key (default: per listing version), charged through the PaymentPort with the purchase id as
 * its reference. A charge that completes at once (free listings) installs the template at once.
 */
export async function purchase(
  request: FastifyRequest,
  payments: PaymentPort,
  listingId: string,
  body: { idempotencyKey?: string | undefined },
): Promise<{ purchase: PurchaseDto; created: boolean }> {
  const auth = authOf(request);
  const { row: p, created } = await tenant(request, async (tx) => {
    const [l] = await tx
      .select()
      .from(marketplaceListings)
      .where(and(eq(marketplaceListings.id, listingId), eq(marketplaceListings.status, 'published')));
    if (!l) throw notFound('Published listing', listingId);
    if (l.organizationId === auth.organizationId)
      throw badRequest('This is your own organization’s template: it is already yours');
    const key = body.idempotencyKey ?? `listing:${l.id}:v${l.templateVersion}`;
    const split = splitPrice(l.price);
    const [row] = await tx
      .insert(templatePurchases)
      .values({
        organizationId: auth.organizationId,
        buyerId: auth.userId,
        listingId: l.id,
        sellerOrganizationId: l.organizationId,
        templateName: l.name,
        templateVersion: l.templateVersion,
        ...split,
        currency: l.currency,
        idempotencyKey: key,
      })
      .onConflictDoNothing()
      .returning();
    if (row) {
      await audit(tx, request, {
        entityType: 'template_purchase',
        entityId: row.id,
        action: 'created',
        after: purchaseDto(row),
      });
      return { row, created: true };
    }
    const [existing] = await tx
      .select()
      .from(templatePurchases)
      .where(
        and(
          eq(templatePurchases.organizationId, auth.organizationId),
          eq(templatePurchases.idempotencyKey, key),
        ),
      );
    return { row: existing!, created: false };
  });
  if (p.transactionId || p.paymentStatus !== 'pending') return { purchase: purchaseDto(p), created };
  const charged = await payments.charge({
    organizationId: auth.organizationId,
    amount: p.price,
    currency: p.currency,
    description: `AI Ops Studio marketplace: template "${p.templateName}" v${p.templateVersion}`,
    reference: p.id,
  });
  const done = await tenant(request, async (tx) => {
    const [row] = await tx
      .update(templatePurchases)
      .set({
        transactionId: charged.transactionId,
        paymentMethod: payments.name,
        paymentStatus: charged.status,
        ...(charged.status === 'completed' ? { completedAt: new Date() } : {}),
      })
      .where(and(eq(templatePurchases.id, p.id), eq(templatePurchases.paymentStatus, 'pending')))
      .returning();
    const current = row ?? (await findPurchase(tx, p.id));
    if (row?.paymentStatus === 'completed') await install(tx, row, auth.userId);
    await audit(tx, request, {
      entityType: 'template_purchase',
      entityId: p.id,
      action: `payment_${charged.status}`,
      metadata: { transactionId: charged.transactionId, provider: payments.name },
    });
    return findPurchase(tx, current.id);
  });
  return { purchase: purchaseDto(done), created };
}

/** The seller marks a pending (manual / invoice) payment as received: the purchase completes. */
export function confirm(request: FastifyRequest, id: string) {
  const orgId = authOf(request).organizationId;
  return tenant(request, async (tx) => {
    const p = await findPurchase(tx, id);
    if (p.sellerOrganizationId !== orgId) throw notFound('Sale', id);
    if (p.paymentStatus === 'completed') return purchaseDto(p);
    if (p.paymentStatus !== 'pending')
      throw conflict(`The purchase is ${p.paymentStatus}: only a pending payment can be confirmed`);
    const [row] = await tx
      .update(templatePurchases)
      .set({ paymentStatus: 'completed', completedAt: new Date() })
      .where(and(eq(templatePurchases.id, id), eq(templatePurchases.paymentStatus, 'pending')))
      .returning();
    const dto = purchaseDto(row ?? (await findPurchase(tx, id)));
    await audit(tx, request, {
      entityType: 'template_purchase',
      entityId: id,
      action: 'payment_confirmed',
      before: purchaseDto(p),
      after: dto,
    });
    return dto;
  });
}

/** The seller refunds a completed purchase through the PaymentPort (a second refund changes nothing). */
export async function refund(request: FastifyRequest, payments: PaymentPort, id: string) {
  const orgId = authOf(request).organizationId;
  const p = await tenant(request, (tx) => findPurchase(tx, id));
  if (p.sellerOrganizationId !== orgId) throw notFound('Sale', id);
  if (p.paymentStatus === 'refunded') return purchaseDto(p);
  if (p.paymentStatus !== 'completed')
    throw conflict(`The purchase is ${p.paymentStatus}: only a completed purchase can be refunded`);
  const result = await payments.refund(p.transactionId ?? p.id, p.price);
  if (result.status !== 'completed')
    throw conflict(`The payment provider answered ${result.status} to the refund: try again later`);
  return tenant(request, async (tx) => {
    const [row] = await tx
      .update(templatePurchases)
      .set({ paymentStatus: 'refunded', refundedAt: new Date() })
      .where(and(eq(templatePurchases.id, id), eq(templatePurchases.paymentStatus, 'completed')))
      .returning();
    const dto = purchaseDto(row ?? (await findPurchase(tx, id)));
    await audit(tx, request, {
      entityType: 'template_purchase',
      entityId: id,
      action: 'refunded',
      before: purchaseDto(p),
      after: dto,
      metadata: { refundTransactionId: result.transactionId },
    });
    return dto;
  });
}

/** The buyer installs a completed purchase as a template of their organization (idempotent). */
export function installPurchase(request: FastifyRequest, id: string) {
  const auth = authOf(request);
  return tenant(request, async (tx) => {
    const p = await findPurchase(tx, id);
    if (p.organizationId !== auth.organizationId) throw notFound('Purchase', id);
    if (p.paymentStatus !== 'completed')
      throw conflict(`The purchase is ${p.paymentStatus}: it installs once its payment is completed`);
    const had = p.installedTemplateId;
    const row = await install(tx, p, auth.userId);
    if (had !== row.id)
      await audit(tx, request, {
        entityType: 'template',
        entityId: row.id,
        action: 'installed',
        metadata: { purchaseId: p.id, listingId: p.listingId },
      });
    return { purchase: purchaseDto(await findPurchase(tx, id)), template: templateDto(row) };
  });
}

export function listPurchases(request: FastifyRequest) {
  const orgId = authOf(request).organizationId;
  return tenant(request, async (tx) => ({
    data: (
      await tx
        .select()
        .from(templatePurchases)
        .where(eq(templatePurchases.organizationId, orgId))
        .orderBy(desc(templatePurchases.purchasedAt))
        .limit(500)
    ).map(purchaseDto),
  }));
}

/** The seller's sales with totals: gross, fees, payouts of completed sales, pending payouts, refunds. */
export function listSales(request: FastifyRequest) {
  const orgId = authOf(request).organizationId;
  return tenant(request, async (tx) => {
    const rows = await tx
      .select()
      .from(templatePurchases)
      .where(
        and(eq(templatePurchases.sellerOrganizationId, orgId), ne(templatePurchases.paymentStatus, 'failed')),
      )
      .orderBy(desc(templatePurchases.purchasedAt))
      .limit(1000);
    const completed = rows.filter((r) => r.paymentStatus === 'completed');
    return {
      data: rows.map(purchaseDto),
      totals: {
        sales: completed.length,
        gross: sum(completed.map((r) => r.price)),
        platformFees: sum(completed.map((r) => r.platformFee)),
        payouts: sum(completed.map((r) => r.sellerPayout)),
        pendingPayouts: sum(rows.filter((r) => r.paymentStatus === 'pending').map((r) => r.sellerPayout)),
        refunded: sum(rows.filter((r) => r.paymentStatus === 'refunded').map((r) => r.price)),
      },
    };
  });
}

/**
 * For billing: the marketplace purchases an organization made in [from, to) (by purchase time), failed
 * charges left out, each with its price, platform fee, seller payout, status and transaction id. Amounts
 * are exact decimal strings. Runs in the organization's own tenant transaction.
 */
export function purchasesForPeriod(
  db: Database,
  orgId: string,
  from: Date,
  to: Date,
): Promise<PurchaseDto[]> {
  return db.withTenant(orgId, async (tx) =>
    (
      await tx
        .select()
        .from(templatePurchases)
        .where(
          and(
            eq(templatePurchases.organizationId, orgId),
            gte(templatePurchases.purchasedAt, from),
            lt(templatePurchases.purchasedAt, to),
            ne(templatePurchases.paymentStatus, 'failed'),
          ),
        )
        .orderBy(templatePurchases.purchasedAt)
    ).map(purchaseDto),
  );
}
