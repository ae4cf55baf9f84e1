import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { testDatabaseUrl } from '@aiops/config';
import { createPostgresDatabase, dropPostgresDatabase, testBackend } from '@aiops/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './test-cli.ts';

const children: ChildProcess[] = [];
let dir: string;
let pgUrl: string | undefined;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'aiops-cli-'));
  const admin = testDatabaseUrl();
  if (admin) pgUrl = await createPostgresDatabase(admin);
});
afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
  const admin = testDatabaseUrl();
  if (admin && pgUrl) await dropPostgresDatabase(admin, pgUrl);
});

function cliEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    LOG_LEVEL: 'warn',
    ...extra,
  };
  if (pgUrl) env.DATABASE_URL = pgUrl;
  return env;
}

function run(args: string[], env = cliEnv()) {
  return runCli(args, env, dir, children);
}

describe(`aiops CLI on ${testBackend()}`, () => {
  it('--version and --help', async () => {
    const v = run(['--version']);
    expect(await v.exited).toBe(0);
    expect(v.out().trim()).toMatch(/^\d+\.\d+\.\d+$/);
    const h = run(['--help']);
    expect(await h.exited).toBe(0);
    expect(h.out()).toMatch(/start/);
    expect(h.out()).toMatch(/migrate/);
  });

  it('migrate applies every migration, and again is a no-op', async () => {
    for (let i = 0; i < 2; i++) {
      const m = run(['migrate', '--data-dir', path.join(dir, 'migrated')]);
      expect(await m.exited).toBe(0);
      expect(m.out()).toMatch(/(\d+) of \1 migrations applied/);
    }
  });

  it('start prints the URL when ready; /readyz answers 200; SIGTERM exits cleanly', async () => {
    const s = run(['start', '--port', '0', '--data-dir', path.join(dir, 'data')]);
    const [, url] = await s.waitFor(/ready at (http:\/\/\S+)/);
    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(200);
    expect(((await ready.json()) as { status: string }).status).toBe('ready');

    if (testBackend() === 'pglite') {
      // A second process on the same data directory is refused with a clear message.
      const second = run(['start', '--port', '0', '--data-dir', path.join(dir, 'data')]);
      expect(await second.exited).toBe(1);
      expect(second.err()).toMatch(/in use by another aiops process \(pid \d+/);
    }

    // In-flight requests finishing during shutdown is proven in apps/server/src/shutdown.test.ts.
    s.child.kill('SIGTERM');
    expect(await s.exited).toBe(0);
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  });

  it('a bad configuration stops with one line naming the variable', async () => {
    const s = run(['start'], cliEnv({ PORT: 'eighty' }));
    expect(await s.exited).toBe(1);
    expect(s.err().trim().split('\n')).toHaveLength(1);
    expect(s.err()).toMatch(/^aiops: Invalid configuration: PORT = "eighty"/);
  });

  it('an unreachable database says so in one line', async () => {
    const s = run(['migrate'], { ...cliEnv(), DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none' });
    expect(await s.exited).toBe(1);
    expect(s.err()).toMatch(/cannot reach the database/);
  });
});
