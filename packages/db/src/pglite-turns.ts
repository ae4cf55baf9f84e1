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
export function takeTurns(client: PGlite): void {
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
  for (const method of ['query', 'exec', 'transaction'] as const) {
    const original = c[method].bind(client);
    c[method] = (...args: unknown[]) => inTurn(() => original(...args));
  }
}
