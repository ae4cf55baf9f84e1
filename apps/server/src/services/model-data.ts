/**
 * What the model port reads from the database: the organization's price overrides (cached briefly per
 * process, dropped at once on a change made here) and the response cache (`response_cache`, tenant rows
 * keyed by the SHA-256 of the request).
 */
import { type Database, modelPrices, responseCache } from '@aiops/db';
import type { CachedAnswer, ModelPrice, ResponseCache } from '@aiops/providers';
import { and, eq, gt, lt, sql } from 'drizzle-orm';

type PriceRow = typeof modelPrices.$inferSelect;

export function toModelPrice(r: PriceRow): ModelPrice {
  const p: ModelPrice = { model: r.model, effectiveFrom: r.effectiveFrom, input: r.input, output: r.output };
  if (r.effectiveTo) p.effectiveTo = r.effectiveTo;
  if (r.cachedInput) p.cachedInput = r.cachedInput;
  if (r.cacheWrite) p.cacheWrite = r.cacheWrite;
  if (r.reasoning) p.reasoning = r.reasoning;
  if (r.perRequest) p.perRequest = r.perRequest;
  return p;
}

/** Price overrides by organization, read through a short cache (a change elsewhere shows within `ttlMs`). */
export class PriceOverrides {
  private readonly cached = new Map<string, { at: number; prices: Promise<ModelPrice[]> }>();

  constructor(
    private readonly db: Database,
    private readonly ttlMs = 30_000,
  ) {}

  readonly lookup = (organizationId: string): Promise<ModelPrice[]> => {
    const hit = this.cached.get(organizationId);
    if (hit && Date.now() - hit.at < this.ttlMs) return hit.prices;
    const prices = this.db
      .withTenant(organizationId, (tx) => tx.select().from(modelPrices))
      .then((rows) => rows.map(toModelPrice));
    prices.catch(() => this.cached.delete(organizationId));
    this.cached.set(organizationId, { at: Date.now(), prices });
    return prices;
  };

  invalidate(organizationId: string): void {
    this.cached.delete(organizationId);
  }
}

/** The response cache in the database: shared by every process, kept per organization. */
export class DbResponseCache implements ResponseCache {
  constructor(private readonly db: Database) {}

  async get(key: string, organizationId: string): Promise<CachedAnswer | undefined> {
    const [row] = await this.db.withTenant(organizationId, (tx) =>
      tx
        .update(responseCache)
        .set({ hits: sql`${responseCache.hits} + 1` })
        .where(and(eq(responseCache.key, key), gt(responseCache.expiresAt, sql`now()`)))
        .returning({ answer: responseCache.answer }),
    );
    return row?.answer as CachedAnswer | undefined;
  }

  async set(key: string, answer: CachedAnswer, ttlMs: number, organizationId: string): Promise<void> {
    if (!(ttlMs > 0)) return;
    const expiresAt = new Date(Date.now() + ttlMs);
    await this.db.withTenant(organizationId, async (tx) => {
      await tx
        .insert(responseCache)
        .values({ organizationId, key, answer: answer as unknown as Record<string, unknown>, expiresAt })
        .onConflictDoUpdate({
          target: [responseCache.organizationId, responseCache.key],
          set: { answer: answer as unknown as Record<string, unknown>, expiresAt, hits: 0 },
        });
      // expired entries of this organization go as new ones arrive
      await tx.delete(responseCache).where(lt(responseCache.expiresAt, sql`now()`));
    });
  }
}
