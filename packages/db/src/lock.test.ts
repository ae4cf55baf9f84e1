import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { DataDirLockedError, lockDataDir } from './lock.ts';

const dirs: string[] = [];
const newDir = () => {
  const d = mkdtempSync(`${tmpdir()}/aiops-lock-`);
  dirs.push(d);
  return `${d}/data`;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('data directory lock', () => {
  it('refuses a second holder with a message that says what to do', () => {
    const dir = newDir();
    const lock = lockDataDir(dir);
    expect(() => lockDataDir(dir)).toThrow(DataDirLockedError);
    expect(() => lockDataDir(dir)).toThrow(/in use by another aiops process \(pid \d+.*--data-dir/);
    lock.release();
    expect(existsSync(`${dir}.lock`)).toBe(false);
    lockDataDir(dir).release();
  });

  it('takes over a lock whose process is gone', () => {
    const dir = newDir();
    writeFileSync(
      `${dir}.lock`,
      JSON.stringify({ pid: 2 ** 22 + 12345, token: 'old', startedAt: 'earlier' }),
    );
    const lock = lockDataDir(dir);
    lock.release();
  });

  it('refuses while another live process holds it', async () => {
    const dir = newDir();
    const child = spawn(process.execPath, [
      '-e',
      `require('fs').writeFileSync(${JSON.stringify(`${dir}.lock`)}, JSON.stringify({pid: process.pid, token: 't', startedAt: 'now'})); setInterval(() => {}, 1000)`,
    ]);
    try {
      // Wait until the child has written its lock (a fixed delay is too short on a loaded machine).
      for (let i = 0; i < 200 && !existsSync(`${dir}.lock`); i++) await new Promise((r) => setTimeout(r, 50));
      expect(() => lockDataDir(dir)).toThrow(new RegExp(`pid ${child.pid}`));
    } finally {
      child.kill('SIGKILL');
    }
  });
});
