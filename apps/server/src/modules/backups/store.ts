import { mkdirSync, readdirSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { AppError } from '@aiops/core';
import type { Database } from '@aiops/db';

/** Backups are named `aiops-backup-<UTC time>.tar.gz` (the same gzip tarball `aiops backup` writes). */
const BACKUP_FILE = /^aiops-backup-[0-9TZ-]+\.tar\.gz$/;
const HOUR = 3_600_000;

export interface BackupSchedule {
  dir: string;
  everyHours: number;
  keep: number;
}

export interface BackupFile {
  file: string;
  bytes: number;
  createdAt: Date;
}

/** A file name for a backup taken at `at`. */
export const backupFileName = (at: Date) => `aiops-backup-${at.toISOString().replace(/[:.]/g, '-')}.tar.gz`;

/** An online backup of the running embedded database; on PostgreSQL a 409 that says to use pg_dump. */
export async function takeBackup(db: Database): Promise<Buffer> {
  if (!db.backup) {
    throw new AppError(
      409,
      'backup_not_embedded',
      'This server runs on PostgreSQL: back it up with pg_dump or point-in-time recovery (README "Backups of the database")',
    );
  }
  return db.backup();
}

/** The backups in `dir`, newest first (by modification time); none when the directory does not exist. */
export function listBackups(dir: string): BackupFile[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const files: BackupFile[] = [];
  for (const file of names) {
    if (!BACKUP_FILE.test(file)) continue;
    try {
      const st = statSync(path.join(dir, file));
      if (st.isFile()) files.push({ file, bytes: st.size, createdAt: st.mtime });
    } catch {
      // removed meanwhile
    }
  }
  return files.sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || b.file.localeCompare(a.file));
}

export interface ScheduledBackupReport {
  written: string | null;
  pruned: string[];
}

/**
 * One pass of the schedule at `now` (idempotent): a new backup when the newest one is `everyHours` old or
 * more (written as `.partial`, then renamed, so a crash never leaves a truncated backup under the real
 * name), then the oldest removed beyond `keep`.
 */
export async function runScheduledBackup(
  db: Database,
  schedule: BackupSchedule,
  now: Date = new Date(),
): Promise<ScheduledBackupReport> {
  mkdirSync(schedule.dir, { recursive: true });
  let written: string | null = null;
  const newest = listBackups(schedule.dir)[0];
  if (!newest || now.getTime() - newest.createdAt.getTime() >= schedule.everyHours * HOUR) {
    const dump = await takeBackup(db);
    const file = backupFileName(now);
    const target = path.join(schedule.dir, file);
    const partial = `${target}.partial`;
    writeFileSync(partial, dump);
    renameSync(partial, target);
    written = file;
  }
  const pruned: string[] = [];
  for (const old of listBackups(schedule.dir).slice(schedule.keep)) {
    try {
      unlinkSync(path.join(schedule.dir, old.file));
      pruned.push(old.file);
    } catch {
      // already gone
    }
  }
  return { written, pruned };
}
