import type { ChildProcess } from 'node:child_process';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { testDatabaseUrl } from '@aiops/config';
import { backupPgliteDataDir, lockDataDir, openDb, queryRows } from '@aiops/db';
import { createPostgresDatabase, dropPostgresDatabase, pgliteTemplate } from '@aiops/testing';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from './test-cli.ts';

const children: ChildProcess[] = [];
const dir = mkdtempSync(path.join(tmpdir(), 'aiops-backup-'));
afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});
const env = { PATH: process.env.PATH, HOME: process.env.HOME, LOG_LEVEL: 'warn' };
const ORG = '6f1c7f5e-0000-4000-8000-00000000b4c1';

describe('backups', () => {
  it.runIf(!testDatabaseUrl())(
    'aiops backup, then aiops restore, gives back the embedded database with its data',
    async () => {
      const source = path.join(dir, 'source');
      const db = await openDb({ kind: 'pglite', dataDir: source, loadDataDir: await pgliteTemplate() });
      await db.system((tx) =>
        tx.execute(sql`INSERT INTO organizations (id, name, slug) VALUES (${ORG}, 'Backed up', 'backed-up')`),
      );
      await db.close();

      // While a server holds the directory, a backup is refused (stop the server first).
      const held = lockDataDir(source);
      await expect(backupPgliteDataDir(source)).rejects.toThrow(/in use by another aiops process/);
      held.release();

      const file = path.join(dir, 'aiops.backup.tgz');
      const b = runCli(['backup', '--data-dir', source, '--out', file], env, dir, children);
      expect(await b.exited, b.err()).toBe(0);
      const target = path.join(dir, 'restored');
      const r = runCli(['restore', file, '--data-dir', target], env, dir, children);
      expect(await r.exited, r.err()).toBe(0);
      expect(r.out()).toContain('restored');

      const restored = await openDb({ kind: 'pglite', dataDir: target });
      const rows = await restored.system((tx) =>
        queryRows<{ name: string }>(tx, sql`SELECT name FROM organizations WHERE id = ${ORG}`),
      );
      const status = await restored.status();
      await restored.close();
      expect(rows).toEqual([{ name: 'Backed up' }]);
      expect(status.migrations.applied).toBe(status.migrations.expected);
    },
    120_000,
  );

  it.runIf(testDatabaseUrl())(
    'PostgreSQL: pg_dump then pg_restore into a scratch database gives the same rows',
    async () => {
      const admin = testDatabaseUrl()!;
      const url = await createPostgresDatabase(admin);
      try {
        const client = new pg.Client({ connectionString: url });
        await client.connect();
        await client.query(
          `INSERT INTO organizations (id, name, slug) VALUES ($1, 'Backed up', 'backed-up')`,
          [ORG],
        );
        await client.end();
        const script = path.resolve(import.meta.dirname, '../../../scripts/pg-restore-test.sh');
        const { stdout } = await promisify(execFile)('bash', [script, url, admin]);
        expect(stdout).toMatch(/restored copy identical \(\d+ tables, [1-9]\d* rows\)/);
        const name = stdout.match(/in (aiops_restore_\w+); dropped/)![1];
        const left = new pg.Client({ connectionString: admin });
        await left.connect();
        const scratch = await left.query('SELECT count(*)::int AS n FROM pg_database WHERE datname = $1', [
          name,
        ]);
        await left.end();
        expect(scratch.rows[0].n).toBe(0);
      } finally {
        await dropPostgresDatabase(admin, url);
      }
    },
    120_000,
  );
});
