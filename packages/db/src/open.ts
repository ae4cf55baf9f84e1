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
import { releasePooledClientsOnFailure } from './pg-transaction.ts';
import { type Turns, takeTurns } from './pglite-turns.ts';
import { startAutovacuum, type VacuumPass } from './pglite-vacuum.ts';
import * as schema from './schema/index.ts';
import { pgliteStatements, postgresStatements, type RunStatement } from './statement.ts';
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
      /**
       * How often the embedded autovacuum looks for tables to vacuum or analyze (default one minute, as
       * PostgreSQL's autovacuum_naptime); false for none (`vacuum()` still runs a pass on demand).
       */
      autovacuumMs?: number | false;
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
  /**
   * Runs one statement by itself (autocommit), outside any transaction: the engine's hot statements. On
   * PGlite a prepared statement, parsed once (`statement.ts`).
   */
  readonly statement: RunStatement;
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
  /**
   * PGlite only (undefined on PostgreSQL, use pg_dump): an online, consistent backup of the running
   * database, the gzip tarball of its data directory (`dumpDataDir`, what `aiops backup` writes and
   * `aiops restore` reads). It takes an exclusive turn on the one connection: a CHECKPOINT, then the dump,
   * while other queries wait (they resume right after).
   */
  backup?(): Promise<Buffer>;
  /**
   * PGlite only (PostgreSQL has its own autovacuum): vacuums or analyzes the tables past PostgreSQL's
   * autovacuum thresholds, each in an exclusive turn of its own. It also runs by itself every minute.
   */
  vacuum?(): Promise<VacuumPass[]>;
  /** PostgreSQL's connection pool (absent on PGlite, which has one connection). */
  poolStats?(): { total: number; idle: number; waiting: number };
  close(): Promise<void>;
}

/** The organization a transaction works for, and the user acting in it (none for API keys and workers). */
export interface TenantScope {
  organizationId: string;
  userId?: string | null | undefined;
  /**
   * Commit without waiting for the WAL flush (`synchronous_commit = off` for this transaction only).
   * Only for bookkeeping written after work that already happened (usage counters, a gateway call's
   * ledger row and trace): the commit is atomic and visible at once, but a crash of the database
   * server (not of ours) within about 0.6 s (3 × wal_writer_delay) may lose it. Never for a run's state.
   */
  asyncCommit?: boolean;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function openDb(options: OpenDbOptions): Promise<Database> {
  return options.kind === 'pglite' ? openPglite(options) : openPostgres(options);
}

async function openPglite(options: Extract<OpenDbOptions, { kind: 'pglite' }>): Promise<Database> {
  const inMemory = options.dataDir === 'memory';
  const lock: DataDirLock | undefined = inMemory ? undefined : lockDataDir(options.dataDir);
  let client: PGlite;
  let turns: Turns;
  try {
    client = await PGlite.create({
      ...(inMemory ? {} : { dataDir: options.dataDir }),
      ...(options.loadDataDir ? { loadDataDir: options.loadDataDir } : {}),
      extensions: { vector, pg_trgm },
    });
    if (options.migrate !== false) await migratePgliteClient(client);
    await client.query(`SET ROLE ${APP_ROLE}`);
    turns = takeTurns(client);
  } catch (e) {
    lock?.release();
    throw e;
  }
  const db = drizzlePglite({ client, schema }) as unknown as AppDb;
  const backup = () =>
    turns.exclusive(async (raw) => {
      // CHECKPOINT needs more than the application role; the session goes back to it right after.
      await raw.exec('RESET ROLE');
      try {
        await raw.exec('CHECKPOINT');
      } finally {
        await raw.exec(`SET ROLE ${APP_ROLE}`);
      }
      const blob = await client.dumpDataDir('gzip');
      return Buffer.from(await blob.arrayBuffer());
    });
  const autovacuum = startAutovacuum(turns, APP_ROLE, options.autovacuumMs ?? 60_000, (e) =>
    // No parameters reach a VACUUM statement: its message names the table at most.
    process.emitWarning(`embedded database: autovacuum failed: ${e instanceof Error ? e.message : e}`),
  );
  const database = await makeDatabase(
    'pglite',
    db,
    pgliteStatements(client, turns),
    pgliteListener(client),
    async () => {
      await autovacuum.stop();
      await client.close();
      lock?.release();
    },
  );
  return { ...database, backup, vacuum: autovacuum.runNow };
}

async function openPostgres(options: Extract<OpenDbOptions, { kind: 'postgres' }>): Promise<Database> {
  if (options.migrate !== false) await migratePostgres(options.url);
  releasePooledClientsOnFailure();
  // The role is set before the pool hands a new connection out (pg-pool awaits `onConnect`). Set from the
  // 'connect' event instead, it raced the first query: pg warned "client.query() when the client is
  // already executing a query" under load, and that query could run before SET ROLE.
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize ?? 10,
    // TCP keepalive: a connection whose peer vanished (network partition) errors instead of hanging.
    keepAlive: true,
    // A connection (or a free slot in the pool) not had within 10 s fails the request as unavailable
    // (503, retry) instead of leaving it hanging: a connect can stall when the network drops packets.
    connectionTimeoutMillis: 10_000,
    onConnect: async (client: pg.ClientBase) => {
      await client.query(`SET ROLE ${APP_ROLE}`);
    },
  });
  // An idle client that errors (server restart) is dropped by the pool; do not crash the process.
  pool.on('error', () => {});
  // A client checked out of the pool has no 'error' listener (pg-pool removes its own while lent), and pg
  // emits 'error' when the server ends the connection (pg_ctl restart: 57P01, a cut network: "Connection
  // terminated unexpectedly") even though the query in flight is rejected with it too. Unhandled, that
  // event killed the process. The query's caller gets the error; the pool drops the dead client on release.
  pool.on('connect', (client) => {
    client.on('error', () => {});
  });
  const db = drizzlePg({ client: pool, schema }) as unknown as AppDb;
  const listener = postgresListener(options.url);
  return makeDatabase(
    'postgres',
    db,
    postgresStatements(pool),
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
  statement: RunStatement,
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
    statement,
    embeddings,
    system,
    withTenant(scope, fn) {
      const {
        organizationId: orgId,
        userId,
        asyncCommit,
      } = typeof scope === 'string' ? ({ organizationId: scope } as TenantScope) : scope;
      if (!UUID.test(orgId)) throw new TypeError(`withTenant: organization id must be a UUID, got ${orgId}`);
      if (userId && !UUID.test(userId))
        throw new TypeError(`withTenant: user id must be a UUID, got ${userId}`);
      return db.transaction(async (tx) => {
        await tx.execute(
          sql`SELECT set_config('app.org_id', ${orgId}, true)${
            userId ? sql`, set_config('app.user_id', ${userId}, true)` : sql``
          }${asyncCommit ? sql`, set_config('synchronous_commit', 'off', true)` : sql``}`,
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
