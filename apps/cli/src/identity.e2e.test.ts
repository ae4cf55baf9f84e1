import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { testDatabaseUrl } from '@aiops/config';
import { createPostgresDatabase, dropPostgresDatabase, seedPgliteDataDir, testBackend } from '@aiops/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliProcess, runCli } from './test-cli.ts';

/**
 * The identity story end to end, through the server that `aiops start` runs: sign up, invite a teammate
 * (the invitation mail goes to the log, as with no SMTP configured), create a scoped API key and use it,
 * be rate limited, and read every change in the audit log.
 */
const children: ChildProcess[] = [];
let dir: string;
let pgUrl: string | undefined;
let server: CliProcess;
let url: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'aiops-e2e-'));
  const admin = testDatabaseUrl();
  if (admin) pgUrl = await createPostgresDatabase(admin);
  else await seedPgliteDataDir(path.join(dir, 'data'));
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, LOG_LEVEL: 'info' };
  if (pgUrl) env.DATABASE_URL = pgUrl;
  server = runCli(['start', '--port', '0', '--data-dir', path.join(dir, 'data')], env, dir, children);
  url = (await server.waitFor(/ready at (http:\/\/\S+)/, 180_000))[1]!;
});
afterAll(async () => {
  server?.child.kill('SIGTERM');
  await server?.exited;
  for (const c of children) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
  const admin = testDatabaseUrl();
  if (admin && pgUrl) await dropPostgresDatabase(admin, pgUrl);
});

async function api(method: string, p: string, token?: string, body?: unknown) {
  const res = await fetch(`${url}/api/v1${p}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  // biome-ignore lint/suspicious/noExplicitAny: a test reads loosely typed bodies
  return { status: res.status, headers: res.headers, body: (text ? JSON.parse(text) : null) as any };
}

describe(`identity end to end through \`aiops start\` on ${testBackend()}`, () => {
  it('sign up, invite, scoped API key, rate limit, audit log', async () => {
    const signup = await api('POST', '/auth/signup', undefined, {
      email: 'founder@example.test',
      password: 'Build-Agents-2026!',
      name: 'Founder',
      organizationName: 'Acme Agents',
    });
    expect(signup.status).toBe(201);
    const owner = signup.body.token as string;

    const logFrom = server.out().length;
    const inv = await api('POST', '/invitations', owner, { email: 'teammate@example.test', role: 'member' });
    expect(inv.status).toBe(201);
    const token = (await server.waitFor(/invitations\/(inv_[\w-]+)\/accept/, 10_000, logFrom))[1]!;
    const joined = await api('POST', `/invitations/${token}/accept`, undefined, {
      name: 'Teammate',
      password: 'Join-the-Crew-2026!',
    });
    expect(joined.status).toBe(200);
    expect(joined.body.organization.id).toBe(signup.body.organization.id);
    const members = await api('GET', '/members', owner);
    expect(members.body.data.map((m: { role: string }) => m.role).sort()).toEqual(['member', 'owner']);

    const created = await api('POST', '/api-keys', joined.body.token, {
      name: 'ci',
      scopes: ['organization:read'],
      rateLimit: 3,
    });
    expect(created.status).toBe(201);
    const key = created.body.key as string;
    const first = await api('GET', '/organization', key);
    expect(first.status).toBe(200);
    expect(first.body.name).toBe('Acme Agents');
    expect(first.headers.get('x-ratelimit-limit')).toBe('3');
    expect((await api('GET', '/members', key)).status).toBe(403); // outside its scopes
    expect((await api('GET', '/organization', key)).status).toBe(200);
    const limited = await api('GET', '/organization', key);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);

    const audit = await api('GET', '/audit-logs', owner);
    expect(audit.status).toBe(200);
    const actions = audit.body.data.map(
      (r: { entityType: string; action: string }) => `${r.entityType}.${r.action}`,
    );
    expect(actions).toEqual(
      expect.arrayContaining([
        'user.signed_up',
        'invitation.created',
        'invitation.accepted',
        'api_key.created',
      ]),
    );
    const keyRow = audit.body.data.find((r: { entityType: string }) => r.entityType === 'api_key');
    expect(keyRow.userId).toBe(joined.body.user.id);
    expect(JSON.stringify(audit.body)).not.toContain(key);
    // Nothing secret reached the log, but for the invitation mail itself (the development mail log).
    const lines = server.out().split('\n');
    expect(lines.filter((l) => l.includes(key))).toEqual([]);
    expect(lines.filter((l) => l.includes(token) && !l.includes('"mail"'))).toEqual([]);
  });
});
