import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { vector } from '@electric-sql/pglite-pgvector';
import { sql } from 'drizzle-orm';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import pg from 'pg';
import { detectVectorMode, EmbeddingStore } from './embeddings.ts';
import {
  type Listener,
  type NotificationHandler,
  pgliteListener,
  postgresListener,
  type Unlisten,
} from './listen.ts';
import { type DataDirLock, lockDataDir } from './lock.ts';
import { expectedMigrations, type MigrationStatus, migratePgliteClient, migratePostgres } from './migrate.ts';
import { takeTurns } from './pglite-turns.ts';
import * as schema from './schema/index.ts';
import { type AppDb, type BackendKind, queryRows, type Tx } from './types.ts';

/** The role the application works as (created by migration 0000). Row-level security applies to it. */
export const APP_ROLE = 'aiops_app';

export type OpenDbOptions =
  | {
      kind: 'pglite';
      /** A directory, or 'memory' for an in-memory database (tests). */
      dataDir: string;
      /** Start from this dump of a data directory instead of running initdb (fast test setup). */
      loadDataDir?: Blob | File;
      /** Apply pending migrations at open (default true). */
      migrate?: boolean;
    }
  | {
      kind: 'postgres';
      url: string;
      poolSize?: number;
      migrate?: boolean;
    };

export interface DatabaseStatus {
  reachable: boolean;
  migrations: MigrationStatus;
}

/**
 * The database handle the rest of the product uses. It cannot tell PGlite from PostgreSQL.
 *
 * - `db`: Drizzle, as the application role with no tenant set: global tables only.
 * - `withTenant(orgId, fn)`: a transaction in which the tenant tables show and accept only that org's rows.
 * - `system(fn)`: a transaction as the owner role, which row-level security does not filter. Only for
 *   work that must cross tenants (sign-in lookups, the engine's queue, migrations status); keep it rare.
 *
 * Inside `fn`, run every query on the `tx` it receives: on PGlite a query on `db` while a transaction
 * is open would wait for that transaction forever.
 */
export interface Database {
  readonly kind: BackendKind;
  readonly db: AppDb;
  readonly embeddings: EmbeddingStore;
  /**
   * `scope` is the organization id, or the organization and the user acting (`app.user_id`: the user's
   * own row, tokens and identities become visible and writable; see migration 0014).
   */
  withTenant<T>(scope: string | TenantScope, fn: (tx: Tx) => Promise<T>): Promise<T>;
  system<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  status(): Promise<DatabaseStatus>;
  /** LISTEN on a channel; NOTIFY reaches handlers in every process on the same database. */
  listen(channel: string, handler: NotificationHandler): Promise<Unlisten>;
  /** PostgreSQL's connection pool (absent on PGlite, which has one connection). */
  poolStats?(): { total: number; idle: number; waiting: number };
  close(): Promise<void>;
}

/** The organization a transaction works for, and the user acting in it (none for API keys and workers). */
export interface TenantScope {
  organizationId: string;
  userId?: string | null | undefined;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function openDb(options: OpenDbOptions): Promise<Database> {
  return options.kind === 'pglite' ? openPglite(options) : openPostgres(options);
}

async function openPglite(options: Extract<OpenDbOptions, { kind: 'pglite' }>): Promise<Database> {
  const inMemory = options.dataDir === 'memory';
  const lock: DataDirLock | undefined = inMemory ? undefined : lockDataDir(options.dataDir);
  let client: PGlite;
  try {
    client = await PGlite.create({
      ...(inMemory ? {} : { dataDir: options.dataDir }),
      ...(options.loadDataDir ? { loadDataDir: options.loadDataDir } : {}),
      extensions: { vector, pg_trgm },
    });
    if (options.migrate !== false) await migratePgliteClient(client);
    await client.query(`SET ROLE ${APP_ROLE}`);
    takeTurns(client);
  } catch (e) {
    lock?.release();
    throw e;
  }
  const db = drizzlePglite({ client, schema }) as unknown as AppDb;
  return makeDatabase('pglite', db, pgliteListener(client), async () => {
    await client.close();
    lock?.release();
  });
}

async function openPostgres(options: Extract<OpenDbOptions, { kind: 'postgres' }>): Promise<Database> {
  if (options.migrate !== false) await migratePostgres(options.url);
  // The role is set before the pool hands a new connection out (pg-pool awaits `onConnect`). Set from the
  // 'connect' event instead, it raced the first query: pg warned "client.query() when the client is
  // already executing a query" under load, and that query could run before SET ROLE.
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize ?? 10,
    onConnect: async (client: pg.ClientBase) => {
      await client.query(`SET ROLE ${APP_ROLE}`);
    },
  });
  // An idle client that errors (server restart) is dropped by the pool; do not crash the process.
  pool.on('error', () => {});
  const db = drizzlePg({ client: pool, schema }) as unknown as AppDb;
  const listener = postgresListener(options.url);
  return makeDatabase(
    'postgres',
    db,
    listener,
    async () => {
      await listener.close();
      await pool.end();
    },
    () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
  );
}

async function makeDatabase(
  kind: BackendKind,
  db: AppDb,
  listener: Listener,
  close: () => Promise<void>,
  poolStats?: Database['poolStats'],
): Promise<Database> {
  const system = <T>(fn: (tx: Tx) => Promise<T>) =>
    db.transaction(async (tx) => {
      await tx.execute(sql`SET LOCAL ROLE NONE`);
      return fn(tx);
    });
  const embeddings = new EmbeddingStore(await system((tx) => detectVectorMode(tx)));
  let closed = false;
  return {
    kind,
    db,
    embeddings,
    system,
    withTenant(scope, fn) {
      const { organizationId: orgId, userId } = typeof scope === 'string' ? { organizationId: scope } : scope;
      if (!UUID.test(orgId)) throw new TypeError(`withTenant: organization id must be a UUID, got ${orgId}`);
      if (userId && !UUID.test(userId))
        throw new TypeError(`withTenant: user id must be a UUID, got ${userId}`);
      return db.transaction(async (tx) => {
        await tx.execute(
          userId
            ? sql`SELECT set_config('app.org_id', ${orgId}, true), set_config('app.user_id', ${userId}, true)`
            : sql`SELECT set_config('app.org_id', ${orgId}, true)`,
        );
        return fn(tx);
      });
    },
    async status() {
      const expected = expectedMigrations();
      try {
        const applied = await system(async (tx) => {
          const [t] = await queryRows<{ exists: boolean }>(
            tx,
            sql`SELECT to_regclass('drizzle.__drizzle_migrations') IS NOT NULL AS exists`,
          );
          if (!t?.exists) return 0;
          const [row] = await queryRows<{ n: number }>(
            tx,
            sql`SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations`,
          );
          return row?.n ?? 0;
        });
        return { reachable: true, migrations: { applied, expected } };
      } catch {
        return { reachable: false, migrations: { applied: 0, expected } };
      }
    },
    listen: (channel, handler) => listener.listen(channel, handler),
    ...(poolStats ? { poolStats } : {}),
    async close() {
      if (closed) return;
      closed = true;
      await close();
    },
  };
}
