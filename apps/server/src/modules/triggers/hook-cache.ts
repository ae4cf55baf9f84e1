import type { Database } from '@aiops/db';
import type { TriggerRow } from './firing.ts';

/** Longest a cached hook may live if an invalidation is lost (the NOTIFY connection was down). */
const MAX_AGE_MS = 10_000;
const MAX_ENTRIES = 10_000;

/**
 * Caches webhook triggers by hook id so a webhook request costs no lookup. A change of anything a request
 * depends on (enabled, secret, mode, limits, mapping) or a deletion fires a NOTIFY on `aiops_triggers`
 * (trigger of migration 0027) and every process drops its whole cache. Unknown hook ids are not cached.
 */
export class HookCache {
  private entries = new Map<string, { value: TriggerRow; until: number }>();
  private unlisten: (() => Promise<void>) | undefined;

  async start(db: Database): Promise<void> {
    this.unlisten = await db.listen('aiops_triggers', () => this.clear());
  }

  async stop(): Promise<void> {
    await this.unlisten?.();
    this.unlisten = undefined;
    this.clear();
  }

  clear(): void {
    this.entries = new Map();
  }

  async get(hookId: string, load: () => Promise<TriggerRow | undefined>): Promise<TriggerRow | undefined> {
    const hit = this.entries.get(hookId);
    const now = Date.now();
    if (hit && hit.until > now) return hit.value;
    const generation = this.entries;
    const value = await load();
    // A change announced while loading cleared `entries`: do not cache what may be stale.
    if (!value || generation !== this.entries || !this.unlisten) return value;
    if (this.entries.size >= MAX_ENTRIES) this.clear();
    this.entries.set(hookId, { value, until: now + MAX_AGE_MS });
    return value;
  }
}

const caches = new WeakMap<Database, HookCache>();

/** The hook cache of a database handle (one per app): the routes read it, trigger changes drop it at once. */
export function hookCacheOf(db: Database): HookCache {
  let c = caches.get(db);
  if (!c) {
    c = new HookCache();
    caches.set(db, c);
  }
  return c;
}
