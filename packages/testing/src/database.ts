import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { testDatabaseUrl } from '@aiops/config';
import { type Database, dumpMigratedPglite, migratePostgres, migrationsHash, openDb } from '@aiops/db';
import pg from 'pg';

/** A database of its own for one test file, on the backend under test, dropped at `destroy()`. */
export interface TestDatabase {
  readonly db: Database;
  /** Connection URL on PostgreSQL (a new database per test file); undefined on PGlite. */
  readonly url: string | undefined;
  destroy(): Promise<void>;
}

/** The backend the tests run on: PostgreSQL when DATABASE_URL is set, in-memory PGlite otherwise. */
export const testBackend = (): 'postgres' | 'pglite' => (testDatabaseUrl() ? 'postgres' : 'pglite');

const TEMPLATE_LOCK_KEY = 7_245_104_332;

export async function createTestDatabase(options: { poolSize?: number } = {}): Promise<TestDatabase> {
  const adminUrl = testDatabaseUrl();
  if (!adminUrl) {
    const db = await openDb({ kind: 'pglite', dataDir: 'memory', loadDataDir: await pgliteTemplate() });
    return { db, url: undefined, destroy: () => db.close() };
  }
  const url = await createPostgresDatabase(adminUrl);
  const db = await openDb({ kind: 'postgres', url, poolSize: options.poolSize ?? 5, migrate: false });
  return {
    db,
    url,
    async destroy() {
      await db.close();
      await dropPostgresDatabase(adminUrl, url);
    },
  };
}

/**
 * Fills a new PGlite data directory from the migrated template, so a server started on it (`aiops start
 * --data-dir`) finds its migrations applied instead of running initdb and every migration again.
 */
export async function seedPgliteDataDir(dataDir: string): Promise<void> {
  const db = await openDb({ kind: 'pglite', dataDir, loadDataDir: await pgliteTemplate(), migrate: false });
  await db.close();
}

/** A migrated PGlite data directory dump, cached on disk per migrations hash (initdb takes ~3 s). */
export async function pgliteTemplate(): Promise<Blob> {
  const file = path.join(os.tmpdir(), `aiops-pglite-template-${migrationsHash()}.tar`);
  if (!existsSync(file)) {
    const dump = await dumpMigratedPglite();
    const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
    writeFileSync(tmp, Buffer.from(await dump.arrayBuffer()));
    renameSync(tmp, file);
  }
  return new Blob([readFileSync(file)]);
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/**
 * A new PostgreSQL database cloned from a migrated template (built once per migrations hash, under an
 * advisory lock so parallel test files wait for the first builder).
 */
export async function createPostgresDatabase(adminUrl: string): Promise<string> {
  const template = `aiops_tpl_${migrationsHash()}`;
  const name = `aiops_test_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query('SELECT pg_advisory_lock($1)', [TEMPLATE_LOCK_KEY]);
    try {
      const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [template]);
      if (!rowCount) {
        const building = `${template}_building`;
        await admin.query(`DROP DATABASE IF EXISTS ${building}`);
        await admin.query(`CREATE DATABASE ${building}`);
        await migratePostgres(withDatabase(adminUrl, building));
        await admin.query(`ALTER DATABASE ${building} RENAME TO ${template}`);
      }
    } finally {
      await admin.query('SELECT pg_advisory_unlock($1)', [TEMPLATE_LOCK_KEY]);
    }
    await admin.query(`CREATE DATABASE ${name} TEMPLATE ${template}`);
  } finally {
    await admin.end();
  }
  return withDatabase(adminUrl, name);
}

export async function dropPostgresDatabase(adminUrl: string, url: string): Promise<void> {
  const name = new URL(url).pathname.slice(1);
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}
