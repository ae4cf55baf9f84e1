import type { Database } from '@aiops/db';

/** Longest a cached entry may live if an invalidation is lost (the NOTIFY connection was down). */
const MAX_AGE_MS = 10_000;
const MAX_ENTRIES = 10_000;

/**
 * Caches what a model call is routed by, per organization: its integrations (the row and the decrypted
 * settings the model port takes), its model aliases and its settings (budget, outbound policy), so a
 * gateway call or an agent step costs no lookup before the provider call. What changes with every call
 * is never cached (the month's spend, checked against a budget before each call, is read fresh).
 *
 * Any change of integrations, aliases or organization settings fires a NOTIFY on `aiops_model_config`
 * (triggers of migration 0041) and every process drops its whole cache; the process that makes the change
 * through the API also drops it before answering (app.ts). Until this process listens, nothing is cached.
 */
export class ModelConfigCache {
  private entries = new Map<string, { value: unknown; until: number }>();
  private listening: Promise<void> | undefined;
  private unlisten: (() => Promise<void>) | undefined;

  constructor(private readonly db: Database) {}

  /** Listens for changes (once; `get` calls it). Until the LISTEN is in place, loads are not cached. */
  start(): Promise<void> {
    this.listening ??= this.db
      .listen('aiops_model_config', () => this.clear())
      .then(
        (unlisten) => {
          this.unlisten = unlisten;
        },
        () => {
          // no LISTEN, no cache: every call loads (retried at the next call)
          this.listening = undefined;
        },
      );
    return this.listening;
  }

  clear(): void {
    this.entries = new Map();
  }

  /** The cached value under `key`, else `load()`'s (cached unless undefined or a change came meanwhile). */
  async get<T>(key: string, load: () => Promise<T | undefined>): Promise<T | undefined> {
    const hit = this.entries.get(key);
    const now = Date.now();
    if (hit && hit.until > now) return hit.value as T;
    // only what was loaded while listening may be cached: a change before the LISTEN would go unannounced
    const listening = this.unlisten !== undefined;
    if (!listening) void this.start();
    const generation = this.entries;
    const value = await load();
    // A change announced while loading cleared `entries`: do not cache what may be stale.
    if (value === undefined || generation !== this.entries || !listening || !this.unlisten) return value;
    if (this.entries.size >= MAX_ENTRIES) this.clear();
    this.entries.set(key, { value, until: now + MAX_AGE_MS });
    return value;
  }
}

const caches = new WeakMap<Database, ModelConfigCache>();

/** The model-config cache of a database handle: shared by every model port and route of the process. */
export function modelConfigCacheOf(db: Database): ModelConfigCache {
  let c = caches.get(db);
  if (!c) {
    c = new ModelConfigCache(db);
    caches.set(db, c);
  }
  return c;
}
