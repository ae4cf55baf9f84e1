import { mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openDb, organizations, queryRows, restorePgliteDataDir } from '@aiops/db';
import { testBackend } from '@aiops/testing';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JOBS } from '../../jobs/registry.ts';
import { runJobNow } from '../../jobs/scheduler.ts';
import { call, type SignedUp, signUp, startTestServer, type TestServer } from '../../test-support.ts';
import { setPlatformAdmin } from '../config/admins.ts';
import { backupsEmbeddedJob } from './job.ts';
import { listBackups, runScheduledBackup } from './store.ts';

const HOUR = 3_600_000;
const work = mkdtempSync(path.join(tmpdir(), 'aiops-backups-test-'));
const dir = path.join(work, 'scheduled');
let s: TestServer;
let admin: SignedUp;
let member: SignedUp;

beforeAll(async () => {
  s = await startTestServer({ settings: { backup: { dir, everyHours: 24, keep: 2 } } });
  admin = await signUp(s);
  member = await signUp(s);
  await setPlatformAdmin(s.database.db, admin.email, true);
});

afterAll(async () => {
  await s?.close();
  rmSync(work, { recursive: true, force: true });
});

/** Backdates a backup file by `hours`. */
const age = (file: string, hours: number) => {
  const t = new Date(Date.now() - hours * HOUR);
  utimesSync(path.join(dir, file), t, t);
};

describe(`online backups on ${testBackend()}`, () => {
  it('is for platform admins only', async () => {
    for (const p of ['/api/v1/admin/backups', '/api/v1/admin/backups/download']) {
      const r = await call(s, 'GET', p, { token: member.token });
      expect(r.status).toBe(403);
      expect(r.body.error.code).toBe('platform_admin_required');
    }
  });

  it.runIf(testBackend() === 'postgres')('answers 409 on PostgreSQL, pointing to pg_dump', async () => {
    const info = await call(s, 'GET', '/api/v1/admin/backups', { token: admin.token });
    expect(info.status).toBe(200);
    expect(info.body.embedded).toBe(false);
    const r = await call(s, 'GET', '/api/v1/admin/backups/download', { token: admin.token });
    expect(r.status).toBe(409);
    expect(r.body.error.code).toBe('backup_not_embedded');
    expect(r.body.error.message).toMatch(/pg_dump/);
    await runJobNow(backupsEmbeddedJob, s.app.jobDeps);
    expect(listBackups(dir)).toEqual([]);
  });

  it.runIf(testBackend() === 'pglite')(
    'downloads a consistent backup while the server keeps answering; it restores',
    async () => {
      const started = performance.now();
      const download = s.request('/api/v1/admin/backups/download', {
        headers: { authorization: `Bearer ${admin.token}` },
      });
      // Requests made meanwhile are answered (they wait for the dump's turn, then run).
      const meanwhile = await Promise.all(
        [1, 2, 3].map(() => call(s, 'GET', '/api/v1/organization/features', { token: member.token })),
      );
      expect(meanwhile.map((r) => r.status)).toEqual([200, 200, 200]);
      const res = await download;
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/gzip');
      expect(res.headers.get('content-disposition')).toMatch(
        /^attachment; filename="aiops-backup-[0-9TZ-]+\.tar\.gz"$/,
      );
      const dump = Buffer.from(await res.arrayBuffer());
      const ms = performance.now() - started;
      console.log(`online backup: ${dump.length} bytes in ${ms.toFixed(0)} ms`);
      expect(dump[0]).toBe(0x1f);
      expect(dump[1]).toBe(0x8b);

      const restored = path.join(work, 'restored');
      await restorePgliteDataDir(restored, dump);
      const db = await openDb({ kind: 'pglite', dataDir: restored, migrate: false });
      try {
        const rows = await db.system((tx) =>
          tx
            .select({ id: organizations.id })
            .from(organizations)
            .where(eq(organizations.id, admin.organizationId)),
        );
        expect(rows).toHaveLength(1);
      } finally {
        await db.close();
      }

      const audit = await s.database.db.system((tx) =>
        queryRows<{ user_id: string }>(
          tx,
          sql`SELECT user_id FROM platform_audit_logs WHERE action = 'backup.download'`,
        ),
      );
      expect(audit).toEqual([{ user_id: admin.userId }]);
    },
  );

  it.runIf(testBackend() === 'pglite')(
    'the job writes when due, skips when not, and prunes to keep',
    async () => {
      expect(JOBS).toContain(backupsEmbeddedJob);
      // An old backup already there (its content does not matter to the schedule), and a file left alone.
      mkdirSync(dir, { recursive: true });
      const oldest = 'aiops-backup-2020-01-01T00-00-00-000Z.tar.gz';
      writeFileSync(path.join(dir, oldest), 'old');
      age(oldest, 100);
      writeFileSync(path.join(dir, 'notes.txt'), 'not a backup');
      await runJobNow(backupsEmbeddedJob, s.app.jobDeps);
      const [first] = listBackups(dir);
      expect(first!.file).not.toBe(oldest);
      expect(readdirSync(dir).some((f) => f.endsWith('.partial'))).toBe(false);
      // Not due: the newest is younger than everyHours.
      const skipped = await runScheduledBackup(s.database.db, { dir, everyHours: 24, keep: 2 });
      expect(skipped).toEqual({ written: null, pruned: [] });
      // Due once the newest is 24 hours old; the pass keeps the 2 newest.
      age(first!.file, 25);
      const second = await runScheduledBackup(s.database.db, { dir, everyHours: 24, keep: 2 });
      expect(second.written).not.toBeNull();
      expect(second.pruned).toEqual([oldest]);
      expect(listBackups(dir).map((b) => b.file)).toEqual([second.written, first!.file]);
      expect(readdirSync(dir)).toContain('notes.txt');

      const info = await call(s, 'GET', '/api/v1/admin/backups', { token: admin.token });
      expect(info.status).toBe(200);
      expect(info.body.embedded).toBe(true);
      expect(info.body.schedule).toEqual({ dir, everyHours: 24, keep: 2 });
      expect(info.body.recent.map((b: { file: string }) => b.file)).toEqual([second.written, first!.file]);
      expect(info.body.recent[0].bytes).toBeGreaterThan(0);
    },
  );
});
