import { randomUUID } from 'node:crypto';
import {
  closeSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';

/**
 * An exclusive lock on a PGlite data directory. Two processes opening one PGlite directory lose data
 * silently, so the second one must be refused. The lock is a file beside the directory holding the
 * owner's pid; a lock whose process is gone is stale and is taken over.
 */
export class DataDirLockedError extends Error {
  override name = 'DataDirLockedError';
}

export interface DataDirLock {
  readonly file: string;
  release(): void;
}

interface LockContent {
  pid: number;
  token: string;
  startedAt: string;
}

export function lockDataDir(dataDir: string): DataDirLock {
  const abs = path.resolve(dataDir);
  mkdirSync(path.dirname(abs), { recursive: true });
  const file = `${abs}.lock`;
  const mine: LockContent = { pid: process.pid, token: randomUUID(), startedAt: new Date().toISOString() };

  for (let attempt = 0; attempt < 60; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o600);
      writeSync(fd, JSON.stringify(mine));
      closeSync(fd);
      return {
        file,
        release() {
          const current = readLock(file);
          if (current?.token === mine.token) rmSync(file, { force: true });
        },
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const holder = readLock(file);
    if (holder && isAlive(holder.pid)) {
      throw new DataDirLockedError(
        `The data directory ${abs} is in use by another aiops process (pid ${holder.pid}, since ${holder.startedAt}). ` +
          'Stop that process, or start this one with another --data-dir (or AIOPS_DATA_DIR).',
      );
    }
    // Unreadable and fresh: another process is between creating the file and writing its pid. Wait for it.
    if (!holder && isFresh(file)) {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
      continue;
    }
    // Stale (its process is gone) or unreadable for long: move it aside atomically; one contender wins.
    try {
      renameSync(file, `${file}.stale-${mine.token}`);
      rmSync(`${file}.stale-${mine.token}`, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }
  throw new DataDirLockedError(
    `Could not take the lock ${file}; another process keeps taking it. Try again.`,
  );
}

function readLock(file: string): LockContent | undefined {
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<LockContent>;
    if (typeof parsed.pid === 'number' && typeof parsed.token === 'string') return parsed as LockContent;
  } catch {
    // missing or half-written: treated as stale
  }
  return undefined;
}

/** Written in the last two seconds (or gone already: then the next attempt sees that). */
function isFresh(file: string): boolean {
  try {
    return Date.now() - statSync(file).mtimeMs < 2000;
  } catch {
    return true;
  }
}

function isAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
