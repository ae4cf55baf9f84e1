import type { PGlite } from '@electric-sql/pglite';
import pg from 'pg';

export type NotificationHandler = (payload: string) => void;
export type Unlisten = () => Promise<void>;

/** LISTEN/NOTIFY on either backend: handlers per channel, one connection for all of them. */
export interface Listener {
  listen(channel: string, handler: NotificationHandler): Promise<Unlisten>;
  close(): Promise<void>;
}

const CHANNEL = /^[a-z_][a-z0-9_]{0,62}$/;

function checkChannel(channel: string) {
  if (!CHANNEL.test(channel)) throw new TypeError(`bad channel name ${channel}`);
}

export function pgliteListener(client: PGlite): Listener {
  return {
    async listen(channel, handler) {
      checkChannel(channel);
      return client.listen(channel, handler);
    },
    async close() {},
  };
}

/**
 * PostgreSQL: one dedicated connection (outside the pool) runs every LISTEN. If it drops, it reconnects
 * and listens again; notifications sent meanwhile are lost, so callers keep a polling fallback.
 */
export function postgresListener(url: string, onError: (e: Error) => void = () => {}): Listener {
  const handlers = new Map<string, Set<NotificationHandler>>();
  let client: pg.Client | undefined;
  let connecting: Promise<pg.Client> | undefined;
  let closed = false;

  const connect = (): Promise<pg.Client> => {
    if (client) return Promise.resolve(client);
    connecting ??= (async () => {
      const c = new pg.Client({ connectionString: url });
      c.on('notification', (n) => {
        for (const h of handlers.get(n.channel) ?? []) h(n.payload ?? '');
      });
      c.on('error', (e) => {
        onError(e);
        client = undefined;
        connecting = undefined;
        c.end().catch(() => {});
        if (!closed) setTimeout(() => reconnect(), 500).unref();
      });
      await c.connect();
      for (const channel of handlers.keys()) await c.query(`LISTEN ${channel}`);
      client = c;
      connecting = undefined;
      return c;
    })();
    return connecting;
  };
  const reconnect = () => {
    if (!closed && handlers.size) connect().catch((e: Error) => onError(e));
  };

  return {
    async listen(channel, handler) {
      checkChannel(channel);
      const set = handlers.get(channel) ?? new Set();
      const isNew = set.size === 0;
      set.add(handler);
      handlers.set(channel, set);
      const c = await connect();
      if (isNew) await c.query(`LISTEN ${channel}`);
      return async () => {
        set.delete(handler);
        if (set.size === 0) {
          handlers.delete(channel);
          await client?.query(`UNLISTEN ${channel}`).catch(() => {});
        }
      };
    },
    async close() {
      closed = true;
      const c = client;
      client = undefined;
      await c?.end().catch(() => {});
    },
  };
}
