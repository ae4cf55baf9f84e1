import type { Database } from '@aiops/db';
import { NotifiedCache } from './notified-cache.ts';

/**
 * Caches what a model call is routed by, per organization: its integrations (the row and the decrypted
 * settings the model port takes), its model aliases and its settings (budget, outbound policy), so a
 * gateway call or an agent step costs no lookup before the provider call. What changes with every call
 * is never cached (the month's spend, checked against a budget before each call, is read fresh).
 *
 * Any change of integrations, aliases or organization settings fires a NOTIFY on `aiops_model_config`
 * (triggers of migration 0041) and every process drops its whole cache; the process that makes the change
 * through the API also drops it before answering (app.ts). The first use starts listening; until the
 * LISTEN is in place (retried at each call should it fail), nothing is cached.
 */
export class ModelConfigCache {
  private readonly cache = new NotifiedCache<unknown>('aiops_model_config');
  private starting: Promise<void> | undefined;

  constructor(private readonly db: Database) {}

  /** Starts listening, once per database handle; a failure is retried at the next call. */
  listen(): Promise<void> {
    this.starting ??= this.cache.start(this.db).catch(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  clear(): void {
    this.cache.clear();
  }

  /** The cached value under `key`, else `load()`'s (cached unless undefined). */
  get<T>(key: string, load: () => Promise<T | undefined>): Promise<T | undefined> {
    if (!this.cache.listening) void this.listen();
    return this.cache.get(key, load) as Promise<T | undefined>;
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
