import type { Database } from '@aiops/db';
import type { Authenticated } from '../http/auth.ts';
import { sha256 } from './tokens.ts';

/** Longest a cached check may live if an invalidation is lost (the NOTIFY connection was down). */
const MAX_AGE_MS = 10_000;
const MAX_ENTRIES = 10_000;

/**
 * Caches API-key checks so a machine client's requests cost no database work. Any change to keys,
 * memberships, organizations or users fires a NOTIFY on `aiops_auth` (triggers of migration 0005), and
 * every process drops its whole cache; the process that revokes a key also drops it before answering.
 * Access tokens are not cached: each request re-checks its session.
 */
export class ApiKeyCache {
  private entries = new Map<string, { value: Authenticated | null; until: number }>();
  private unlisten: (() => Promise<void>) | undefined;

  async start(db: Database): Promise<void> {
    this.unlisten = await db.listen('aiops_auth', () => this.clear());
  }

  async stop(): Promise<void> {
    await this.unlisten?.();
    this.clear();
  }

  clear(): void {
    this.entries = new Map();
  }

  async get(key: string, load: () => Promise<Authenticated | null>): Promise<Authenticated | null> {
    const id = sha256(key);
    const hit = this.entries.get(id);
    const now = Date.now();
    if (hit && hit.until > now) return hit.value;
    const generation = this.entries;
    const value = await load();
    // A change announced while loading cleared `entries`: do not cache what may be stale.
    if (!value || generation !== this.entries || !this.unlisten) return value;
    if (this.entries.size >= MAX_ENTRIES) this.clear();
    const expiresAt = value.expiresAt ? value.expiresAt.getTime() : Number.POSITIVE_INFINITY;
    this.entries.set(id, { value, until: Math.min(now + MAX_AGE_MS, expiresAt) });
    return value;
  }
}
