/**
 * Backups of the embedded database: a dump of a PGlite data directory (PGlite's `dumpDataDir`, a gzip
 * tarball) taken with the directory's lock held, so no server can write while it is read. A running server
 * holds that lock: stop it first (`DataDirLockedError` says so). PGlite opens the directory before
 * dumping, so a directory left by a crash is recovered first and the dump is consistent.
 */
import { existsSync, readdirSync, renameSync } from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { vector } from '@electric-sql/pglite-pgvector';
import { lockDataDir } from './lock.ts';

export class BackupError extends Error {
  override name = 'BackupError';
}

/** The gzip tarball of the data directory `dataDir` (the server using it must be stopped). */
export async function backupPgliteDataDir(dataDir: string): Promise<Buffer> {
  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) {
    throw new BackupError(`${path.resolve(dataDir)} is not a PGlite data directory (no PG_VERSION)`);
  }
  const lock = lockDataDir(dataDir);
  try {
    const client = await PGlite.create({ dataDir, extensions: { vector, pg_trgm } });
    try {
      await client.query('CHECKPOINT');
      const blob = await client.dumpDataDir('gzip');
      return Buffer.from(await blob.arrayBuffer());
    } finally {
      await client.close();
    }
  } finally {
    lock.release();
  }
}

/**
 * Restores a dump into `dataDir`. An existing, non-empty directory is refused unless `force`, and then
 * moved aside to `<dataDir>.before-restore-<time>` (never deleted). Returns that path, if any.
 */
export async function restorePgliteDataDir(
  dataDir: string,
  dump: Buffer,
  options: { force?: boolean } = {},
): Promise<{ movedAside: string | null }> {
  if (dump.length < 2 || dump[0] !== 0x1f || dump[1] !== 0x8b) {
    throw new BackupError('Not a backup made by `aiops backup` (expected a gzip tarball)');
  }
  const lock = lockDataDir(dataDir);
  try {
    let movedAside: string | null = null;
    if (existsSync(dataDir) && readdirSync(dataDir).length > 0) {
      if (!options.force) {
        throw new BackupError(
          `${path.resolve(dataDir)} is not empty: restore into a new directory, or pass --force to move it aside`,
        );
      }
      movedAside = `${path.resolve(dataDir)}.before-restore-${new Date().toISOString().replace(/[:.]/g, '-')}`;
      renameSync(dataDir, movedAside);
    }
    const client = await PGlite.create({
      dataDir,
      loadDataDir: new Blob([new Uint8Array(dump)]),
      extensions: { vector, pg_trgm },
    });
    try {
      await client.query('SELECT 1');
    } finally {
      await client.close();
    }
    return { movedAside };
  } finally {
    lock.release();
  }
}
