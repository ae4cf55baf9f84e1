import type { ExtractTablesWithRelations, SQL } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from 'drizzle-orm/pg-core';
import type * as schema from './schema/index.ts';

export type Schema = typeof schema;
/** A Drizzle database, the same type over PGlite and over node-postgres. */
export type AppDb = PgDatabase<PgQueryResultHKT, Schema>;
/** A Drizzle transaction handle. */
export type Tx = PgTransaction<PgQueryResultHKT, Schema, ExtractTablesWithRelations<Schema>>;
/** Anything a query can run on. */
export type Executor = AppDb | Tx;

export type BackendKind = 'pglite' | 'postgres';

/** Runs a raw SQL statement and returns its rows, on either backend. */
export async function queryRows<T>(ex: Executor, query: SQL): Promise<T[]> {
  const result = (await ex.execute(query)) as unknown as { rows: T[] };
  return result.rows;
}
