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
 * PostgreSQL: one dedicated connection (outside the pool) runs every LISTEN. If it drops (server restart,
 * network cut), it reconnects and listens again, retrying with backoff (0.25 s doubling to 5 s) until the
 * server answers; notifications sent meanwhile are lost, so callers keep a polling fallback.
 */
export function postgresListener(url: string, onError: (e: Error) => void = () => {}): Listener {
  const handlers = new Map<string, Set<NotificationHandler>>();
  let client: pg.Client | undefined;
  let connecting: Promise<pg.Client> | undefined;
  let retry: NodeJS.Timeout | undefined;
  let backoffMs = 250;
  let closed = false;

  const connect = (): Promise<pg.Client> => {
    if (client) return Promise.resolve(client);
    connecting ??= (async () => {
      const c = new pg.Client({ connectionString: url, keepAlive: true });
      let lost = false;
      c.on('notification', (n) => {
        for (const h of handlers.get(n.channel) ?? []) h(n.payload ?? '');
      });
      c.on('error', (e) => {
        if (lost) return;
        lost = true;
        onError(e);
        if (client === c) client = undefined;
        c.end().catch(() => {});
        scheduleReconnect();
      });
      try {
        await c.connect();
        for (const channel of handlers.keys()) await c.query(`LISTEN ${channel}`);
      } catch (e) {
        lost = true;
        c.end().catch(() => {});
        throw e;
      } finally {
        connecting = undefined;
      }
      if (closed) {
        await c.end().catch(() => {});
        throw new Error('listener closed');
      }
      client = c;
      backoffMs = 250;
      return c;
    })();
    return connecting;
  };
  const scheduleReconnect = () => {
    if (closed || retry || !handlers.size) return;
    retry = setTimeout(() => {
      retry = undefined;
      connect().catch((e: Error) => {
        onError(e);
        backoffMs = Math.min(backoffMs * 2, 5000);
        scheduleReconnect();
      });
    }, backoffMs);
    retry.unref();
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
      if (retry) clearTimeout(retry);
      const c = client;
      client = undefined;
      await c?.end().catch(() => {});
    },
  };
}
