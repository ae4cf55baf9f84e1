import type { Database } from '@aiops/db';
import type { Authenticated } from '../http/auth.ts';
import { NotifiedCache } from './notified-cache.ts';
import { sha256 } from './tokens.ts';

/**
 * Caches API-key checks so a machine client's requests cost no database work. Any change to keys,
 * memberships, organizations or users fires a NOTIFY on `aiops_auth` (triggers of migration 0005), and
 * every process drops its whole cache; the process that revokes a key also drops it before answering.
 * Access tokens are not cached: each request re-checks its session.
 */
export class ApiKeyCache {
  private readonly cache = new NotifiedCache<Authenticated | null>('aiops_auth');

  start(db: Database): Promise<void> {
    return this.cache.start(db);
  }

  stop(): Promise<void> {
    return this.cache.stop();
  }

  clear(): void {
    this.cache.clear();
  }

  get(key: string, load: () => Promise<Authenticated | null>): Promise<Authenticated | null> {
    return this.cache.get(sha256(key), load, (value) =>
      value.expiresAt ? value.expiresAt.getTime() : Number.POSITIVE_INFINITY,
    );
  }
}
