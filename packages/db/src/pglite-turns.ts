import type { PGlite } from '@electric-sql/pglite';

/**
 * PGlite's one connection, handed out in turns that each start from the event loop.
 *
 * PGlite runs every statement synchronously on the main thread and resolves its promises (and delivers
 * NOTIFY) as microtasks, and its own lock hands the connection to the next waiter as a microtask too.
 * Under load the queued API transactions, the worker's claims and completions and the waits they wake
 * all ran back to back inside one microtask drain, so Node reached its poll phase (reading sockets,
 * accepting connections) only when the whole queue was empty. Here each turn starts from `setImmediate`:
 * between two turns the loop polls, so a request that arrives is parsed and joins the queue at once.
 * Turns are first come, first served. A statement run inside a transaction is part of that transaction's
 * turn (it uses the transaction's handle, not these methods).
 */
/** The methods `takeTurns` wraps, as they were before: for use inside an exclusive turn only. */
export interface UnwrappedPglite {
  query: PGlite['query'];
  exec: PGlite['exec'];
}

export interface Turns {
  /**
   * Runs `fn` in a turn of its own: nothing else touches the connection until it settles. `fn` gets the
   * original, unwrapped `query` and `exec` (the wrapped ones would wait for this very turn: a deadlock).
   */
  exclusive<T>(fn: (raw: UnwrappedPglite) => Promise<T>): Promise<T>;
}

export function takeTurns(client: PGlite): Turns {
  const waiting: (() => void)[] = [];
  let busy = false;
  let scheduled = false;

  const grant = () => {
    scheduled = false;
    const next = waiting.shift();
    if (!next) return;
    busy = true;
    next();
  };
  const pump = () => {
    if (busy || scheduled || !waiting.length) return;
    scheduled = true;
    setImmediate(grant);
  };
  const inTurn = async <T>(fn: () => Promise<T>): Promise<T> => {
    await new Promise<void>((resolve) => {
      waiting.push(resolve);
      pump();
    });
    try {
      return await fn();
    } finally {
      busy = false;
      pump();
    }
  };

  const c = client as unknown as Record<
    'query' | 'exec' | 'transaction',
    (...args: unknown[]) => Promise<unknown>
  >;
  const raw = { query: client.query.bind(client), exec: client.exec.bind(client) } as UnwrappedPglite;
  for (const method of ['query', 'exec', 'transaction'] as const) {
    const original = c[method].bind(client);
    c[method] = (...args: unknown[]) => inTurn(() => original(...args));
  }
  return { exclusive: (fn) => inTurn(() => fn(raw)) };
}
