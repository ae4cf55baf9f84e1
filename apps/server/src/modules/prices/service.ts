import type { CreatePriceOverrideBody, PriceOverrideDto } from '@aiops/contracts';
import { AppError, notFound } from '@aiops/core';
import { modelPrices, type Tx } from '@aiops/db';
import { appliesOn, PRICE_CATALOG, priceFor, validatePrices } from '@aiops/providers';
import { and, asc, eq, ilike } from 'drizzle-orm';
import type { FastifyRequest } from 'fastify';
import { authOf } from '../../http/auth.ts';
import { audit, tenant } from '../../http/tenant.ts';
import type { PriceOverrides } from '../../services/model-data.ts';

type Row = typeof modelPrices.$inferSelect;

function toDto(r: Row): PriceOverrideDto {
  return {
    id: r.id,
    model: r.model,
    effectiveFrom: r.effectiveFrom,
    effectiveTo: r.effectiveTo,
    input: r.input,
    output: r.output,
    cachedInput: r.cachedInput,
    cacheWrite: r.cacheWrite,
    reasoning: r.reasoning,
    perRequest: r.perRequest,
    note: r.note,
    createdAt: r.createdAt.toISOString(),
    updatedAt: r.updatedAt.toISOString(),
  };
}

const escapeLike = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

export async function listPrices(request: FastifyRequest, model: string | undefined) {
  const needle = model?.toLowerCase();
  const today = new Date().toISOString().slice(0, 10);
  const overrides = await tenant(request, (tx) =>
    tx
      .select()
      .from(modelPrices)
      .where(model ? ilike(modelPrices.model, `%${escapeLike(model)}%`) : undefined)
      .orderBy(asc(modelPrices.model), asc(modelPrices.effectiveFrom)),
  );
  return {
    catalogVersion: PRICE_CATALOG.version,
    currency: 'USD' as const,
    catalog: PRICE_CATALOG.models
      .filter((p) => !needle || p.model.toLowerCase().includes(needle))
      .map((p) => ({ ...p, current: appliesOn(p, today) })),
    overrides: overrides.map(toDto),
  };
}

/** The price that applies to `model` at `at`, and where it comes from. */
export async function resolvePrice(
  request: FastifyRequest,
  prices: PriceOverrides,
  model: string,
  at?: string,
) {
  const when = at ? new Date(at) : new Date();
  const overrides = await prices.lookup(authOf(request).organizationId);
  const price = priceFor(model, when, overrides, PRICE_CATALOG.models) ?? null;
  const source = !price ? 'none' : overrides.includes(price) ? 'override' : 'catalog';
  return { model, at: when.toISOString(), source: source as 'none' | 'override' | 'catalog', price };
}

function checked(body: CreatePriceOverrideBody) {
  const { note: _note, ...price } = body;
  const problems = validatePrices([price]);
  if (problems.length)
    throw new AppError(400, 'invalid_price', problems.join('; ').replace('prices[0] ', ''), {
      retryable: false,
    });
  return price;
}

const values = (body: CreatePriceOverrideBody) => ({
  model: body.model,
  effectiveFrom: body.effectiveFrom,
  effectiveTo: body.effectiveTo ?? null,
  input: body.input,
  output: body.output,
  cachedInput: body.cachedInput ?? null,
  cacheWrite: body.cacheWrite ?? null,
  reasoning: body.reasoning ?? null,
  perRequest: body.perRequest ?? null,
  note: body.note ?? null,
});

async function duplicate(tx: Tx, body: CreatePriceOverrideBody, except?: string) {
  const [row] = await tx
    .select({ id: modelPrices.id })
    .from(modelPrices)
    .where(and(eq(modelPrices.model, body.model), eq(modelPrices.effectiveFrom, body.effectiveFrom)));
  if (row && row.id !== except)
    throw new AppError(
      409,
      'price_exists',
      `an override of ${body.model} from ${body.effectiveFrom} exists (${row.id}): change that one, or pick another day`,
      { retryable: false, details: { id: row.id } },
    );
}

export async function createPrice(
  request: FastifyRequest,
  prices: PriceOverrides,
  body: CreatePriceOverrideBody,
) {
  checked(body);
  const orgId = authOf(request).organizationId;
  const row = await tenant(request, async (tx) => {
    await duplicate(tx, body);
    const [row] = await tx
      .insert(modelPrices)
      .values({ organizationId: orgId, ...values(body) })
      .returning();
    await audit(tx, request, {
      entityType: 'model_price',
      entityId: row!.id,
      action: 'created',
      after: toDto(row!),
    });
    return row!;
  });
  prices.invalidate(orgId);
  return toDto(row);
}

export async function replacePrice(
  request: FastifyRequest,
  prices: PriceOverrides,
  id: string,
  body: CreatePriceOverrideBody,
) {
  checked(body);
  const orgId = authOf(request).organizationId;
  const row = await tenant(request, async (tx) => {
    const [before] = await tx.select().from(modelPrices).where(eq(modelPrices.id, id));
    if (!before) throw notFound('model_price', id);
    await duplicate(tx, body, id);
    const [row] = await tx
      .update(modelPrices)
      .set({ ...values(body), updatedAt: new Date() })
      .where(eq(modelPrices.id, id))
      .returning();
    await audit(tx, request, {
      entityType: 'model_price',
      entityId: id,
      action: 'updated',
      before: toDto(before),
      after: toDto(row!),
    });
    return row!;
  });
  prices.invalidate(orgId);
  return toDto(row);
}

export async function deletePrice(request: FastifyRequest, prices: PriceOverrides, id: string) {
  const orgId = authOf(request).organizationId;
  await tenant(request, async (tx) => {
    const [before] = await tx.delete(modelPrices).where(eq(modelPrices.id, id)).returning();
    if (!before) throw notFound('model_price', id);
    await audit(tx, request, {
      entityType: 'model_price',
      entityId: id,
      action: 'deleted',
      before: toDto(before),
    });
  });
  prices.invalidate(orgId);
}
