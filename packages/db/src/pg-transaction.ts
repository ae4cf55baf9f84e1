import { type SQL, sql } from 'drizzle-orm';
import { NodePgSession, NodePgTransaction } from 'drizzle-orm/node-postgres';
import type { PgTransactionConfig } from 'drizzle-orm/pg-core';
import pg from 'pg';

/** What the replacement reads of a Drizzle session (fields its constructor sets). */
interface SessionFields {
  client: pg.Pool | pg.PoolClient | pg.Client;
  dialect: unknown;
  schema: unknown;
  options: unknown;
}

type Transaction = (tx: NodePgTransaction<never, never>) => Promise<unknown>;

// Drizzle's classes, constructed as its own `transaction()` constructs them (their types hide the arguments).
const Session = NodePgSession as unknown as new (...args: unknown[]) => unknown;
const Tx = NodePgTransaction as unknown as new (
  ...args: unknown[]
) => NodePgTransaction<never, never> & { getTransactionConfigSQL(c: PgTransactionConfig): SQL };

let installed = false;

/**
 * Drizzle's pooled `transaction()` (node-postgres, 0.45) runs `BEGIN` before the `try/finally` that gives
 * the client back, and gives it back without the error: a `BEGIN` that fails (the pooled connection died
 * while idle: PostgreSQL restarted, the network was cut) kept that client out of the pool for the life of
 * the process, and a client whose `ROLLBACK` failed went back to the pool as if healthy
 * (drizzle-orm#6023, #6114, #6241). A few such failures emptied the pool: every later request waited for a
 * connection until it timed out, and the process never became ready again (the scale-out fault test's
 * rare failure). This replaces the method with one that gives the client back on every path, and destroys
 * it when `BEGIN` or `ROLLBACK` failed. The caller gets the transaction's own error, not the rollback's.
 * Transactions on a single client (no pool) keep Drizzle's method.
 */
export function releasePooledClientsOnFailure(): void {
  if (installed) return;
  installed = true;
  const proto = NodePgSession.prototype as unknown as {
    transaction(this: SessionFields, fn: Transaction, config?: PgTransactionConfig): Promise<unknown>;
  };
  const original = proto.transaction;
  proto.transaction = async function (this: SessionFields, fn: Transaction, config?: PgTransactionConfig) {
    if (!(this.client instanceof pg.Pool)) return original.call(this, fn, config);
    const client = await this.client.connect();
    const session = new Session(client, this.dialect, this.schema, this.options);
    const tx = new Tx(this.dialect, session, this.schema);
    let broken: Error | undefined;
    try {
      try {
        await tx.execute(sql`begin${config ? sql` ${tx.getTransactionConfigSQL(config)}` : undefined}`);
      } catch (e) {
        broken = asError(e);
        throw e;
      }
      try {
        const result = await fn(tx);
        await tx.execute(sql`commit`);
        return result;
      } catch (error) {
        try {
          await tx.execute(sql`rollback`);
        } catch (e) {
          broken = asError(e);
        }
        throw error;
      }
    } finally {
      client.release(broken);
    }
  };
}

const asError = (e: unknown): Error => (e instanceof Error ? e : new Error(String(e)));
