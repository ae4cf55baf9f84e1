import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { testDatabaseUrl } from '@aiops/config';
import { createPostgresDatabase, dropPostgresDatabase, testBackend } from '@aiops/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * `aiops start` whose stdout and stderr are pipes whose reader goes away (a `npm start | tee log` whose tee
 * is gone, a restarting log shipper): a parent process starts the server with piped output, sends it
 * SIGTERM and exits at once, closing the pipes. The server must still exit, within its shutdown timeout.
 */
const MAIN = path.resolve(import.meta.dirname, 'main.ts');
const TSX = import.meta.resolve('tsx');
const SHUTDOWN_TIMEOUT_MS = 3000;

let dir: string;
let pgUrl: string | undefined;
let serverPid: number | undefined;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'aiops-pipes-'));
  const admin = testDatabaseUrl();
  if (admin) pgUrl = await createPostgresDatabase(admin);
});
afterAll(async () => {
  if (serverPid && alive(serverPid)) process.kill(serverPid, 'SIGKILL');
  rmSync(dir, { recursive: true, force: true });
  const admin = testDatabaseUrl();
  if (admin && pgUrl) await dropPostgresDatabase(admin, pgUrl);
});

/** Whether the process runs (a zombie left to a parent that does not reap it has exited). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] !== 'Z';
  } catch {
    return false;
  }
}

/** The parent: starts the server with piped output, prints its pid when ready, SIGTERMs it and exits. */
const PARENT = `
const { spawn } = require('node:child_process');
const [main, tsx, dataDir] = process.argv.slice(1);
const child = spawn(process.execPath, ['--import', tsx, main, 'start', '--port', '0', '--data-dir', dataDir], {
  stdio: ['ignore', 'pipe', 'pipe'],
});
let out = '';
child.stdout.on('data', (d) => {
  out += d;
  if (/ready at/.test(out)) {
    process.stdout.write('server pid ' + child.pid + '\\n', () => {
      child.kill('SIGTERM');
      process.exit(0);
    });
  }
});
child.on('exit', (code) => { process.stdout.write('server exited early ' + code + '\\n'); process.exit(2); });
`;

describe(`aiops start on ${testBackend()}`, () => {
  it('exits within its shutdown timeout after SIGTERM when its output pipes have closed', async () => {
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      LOG_LEVEL: 'info', // so the server writes to its closed pipes while it shuts down
      AIOPS_DEMO: 'false',
      AIOPS_SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
      ...(pgUrl ? { DATABASE_URL: pgUrl } : {}),
    };
    const parent = spawn(process.execPath, ['-e', PARENT, MAIN, TSX, path.join(dir, 'data')], {
      env,
      cwd: dir,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let said = '';
    parent.stdout.on('data', (d) => (said += d));
    const parentCode = await new Promise<number | null>((resolve) => parent.on('exit', resolve));
    const signalledAt = Date.now();
    expect(parentCode, said).toBe(0);
    serverPid = Number(/server pid (\d+)/.exec(said)![1]);
    // Its pipes' readers are gone now: every write the server makes fails (EPIPE).
    while (alive(serverPid) && Date.now() - signalledAt < SHUTDOWN_TIMEOUT_MS + 5000) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const took = Date.now() - signalledAt;
    expect(alive(serverPid), `still running ${took} ms after SIGTERM`).toBe(false);
    expect(took).toBeLessThan(SHUTDOWN_TIMEOUT_MS + 1500);
  }, 120_000);
});
