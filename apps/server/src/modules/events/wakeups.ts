import type { Database } from '@aiops/db';

type Wake = () => void;

/**
 * One LISTEN on `aiops_outbox` per process (trigger of migration 0027: the payload is the organization id
 * of new outbox rows), fanned out to the live streams of that organization. On PostgreSQL a dropped
 * listening connection loses notifications meanwhile, so streams keep a slow fallback poll.
 */
class OutboxWakeups {
  private readonly byOrg = new Map<string, Set<Wake>>();
  private listening: Promise<(() => Promise<void>) | undefined> | undefined;

  constructor(private readonly db: Database) {}

  async subscribe(organizationId: string, wake: Wake): Promise<() => void> {
    const set = this.byOrg.get(organizationId) ?? new Set();
    set.add(wake);
    this.byOrg.set(organizationId, set);
    this.listening ??= this.db
      .listen('aiops_outbox', (org) => {
        for (const w of this.byOrg.get(org) ?? []) w();
      })
      .catch(() => undefined);
    await this.listening;
    return () => {
      set.delete(wake);
      if (!set.size) this.byOrg.delete(organizationId);
    };
  }
}

const perDb = new WeakMap<Database, OutboxWakeups>();

export function outboxWakeups(db: Database): OutboxWakeups {
  let w = perDb.get(db);
  if (!w) {
    w = new OutboxWakeups(db);
    perDb.set(db, w);
  }
  return w;
}
