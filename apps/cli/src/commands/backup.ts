import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { ConfigError, loadConfig } from '@aiops/config';
import { backupPgliteDataDir, DataDirLockedError, restorePgliteDataDir } from '@aiops/db';

function pgliteDir(dataDir: string | undefined, verb: string): string {
  const config = loadConfig(undefined, dataDir !== undefined ? { dataDir } : {});
  if (config.database.kind === 'postgres') {
    throw new ConfigError(
      `aiops ${verb} is for the embedded database; DATABASE_URL is set: use pg_dump / pg_restore (README "Backups")`,
    );
  }
  return config.database.dataDir;
}

/**
 * `aiops backup`: a gzip tarball of the PGlite data directory (the server on it must be stopped; a running
 * server backs itself up, see the backups module).
 */
export async function backup(options: { dataDir?: string; out?: string }): Promise<void> {
  if (!options.out) throw new ConfigError('--out <file>: where to write the backup');
  const dir = pgliteDir(options.dataDir, 'backup');
  const dump = await backupPgliteDataDir(dir).catch((e: unknown) => {
    if (!(e instanceof DataDirLockedError)) throw e;
    throw new DataDirLockedError(
      `${e.message} A running server backs itself up: download one as a platform admin (studio: Admin → Configuration → Backups, or GET /api/v1/admin/backups/download), or set AIOPS_BACKUP_DIR for scheduled backups.`,
    );
  });
  const tmp = `${options.out}.partial`;
  writeFileSync(tmp, dump);
  renameSync(tmp, options.out);
  process.stdout.write(`aiops: backed up ${dir} to ${options.out} (${dump.length} bytes)\n`);
}

/** `aiops restore <file>`: a backup into a new (or, with --force, replaced) PGlite data directory. */
export async function restore(file: string, options: { dataDir?: string; force?: boolean }): Promise<void> {
  const dir = pgliteDir(options.dataDir, 'restore');
  const { movedAside } = await restorePgliteDataDir(dir, readFileSync(file), {
    force: options.force ?? false,
  });
  process.stdout.write(
    `aiops: restored ${file} into ${dir}${movedAside ? ` (the previous directory is at ${movedAside})` : ''}\n`,
  );
}
