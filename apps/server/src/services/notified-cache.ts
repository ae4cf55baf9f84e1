import type { Database } from '@aiops/db';

/** Longest a cached entry may live if an invalidation is lost (the NOTIFY connection was down). */
const MAX_AGE_MS = 10_000;
const MAX_ENTRIES = 10_000;

/**
 * A per-process cache that a NOTIFY on `channel` empties, in every process on the database. Nothing is
 * cached until this process listens (a change before the LISTEN would go unannounced), nor what was
 * loaded while a change was announced; an entry lives at most 10 s, should a notification be lost.
 * `L` is what a load gives; `null` and `undefined` (nothing found) are never cached.
 */
export class NotifiedCache<L> {
  private entries = new Map<string, { value: L; until: number }>();
  private unlisten: (() => Promise<void>) | undefined;

  constructor(private readonly channel: string) {}

  async start(db: Database): Promise<void> {
    this.unlisten = await db.listen(this.channel, () => this.clear());
  }

  async stop(): Promise<void> {
    const unlisten = this.unlisten;
    this.unlisten = undefined;
    await unlisten?.();
    this.clear();
  }

  get listening(): boolean {
    return this.unlisten !== undefined;
  }

  clear(): void {
    this.entries = new Map();
  }

  /** The cached value under `key`, else `load()`'s; `expiresAt` may shorten an entry's life. */
  async get(key: string, load: () => Promise<L>, expiresAt?: (value: NonNullable<L>) => number): Promise<L> {
    const hit = this.entries.get(key);
    const now = Date.now();
    if (hit && hit.until > now) return hit.value;
    const listening = this.listening;
    const generation = this.entries;
    const value = await load();
    // A change announced while loading cleared `entries`: do not cache what may be stale.
    if (value == null || generation !== this.entries || !listening || !this.listening) return value;
    if (this.entries.size >= MAX_ENTRIES) this.clear();
    this.entries.set(key, { value, until: Math.min(now + MAX_AGE_MS, expiresAt?.(value) ?? Infinity) });
    return value;
  }
}
