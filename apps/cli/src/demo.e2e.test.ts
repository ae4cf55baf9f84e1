import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { testDatabaseUrl } from '@aiops/config';
import { createPostgresDatabase, dropPostgresDatabase, testBackend } from '@aiops/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './test-cli.ts';

/**
 * The newcomer's path: `aiops start` on an empty database prints demo credentials; with them one signs
 * in, starts a demo workflow run through the API and watches its events to the end.
 */
const children: ChildProcess[] = [];
let dir: string;
let pgUrl: string | undefined;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'aiops-demo-'));
  const admin = testDatabaseUrl();
  if (admin) pgUrl = await createPostgresDatabase(admin);
});
afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
  const admin = testDatabaseUrl();
  if (admin && pgUrl) await dropPostgresDatabase(admin, pgUrl);
});

describe(`first start on ${testBackend()}`, () => {
  it('seeds a demo account and workflows; a run started through the API streams its events to completion', async () => {
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      LOG_LEVEL: 'warn',
      AIOPS_DEMO: 'true',
    };
    if (pgUrl) env.DATABASE_URL = pgUrl;
    const s = runCli(['start', '--port', '0', '--data-dir', path.join(dir, 'data')], env, dir, children);
    const [, url] = await s.waitFor(/ready at (http:\/\/\S+)/, 60_000);
    const [, email, password] = await s.waitFor(/email:\s+(\S+)\s+password:\s+(\S+)/);
    const post = (p: string, body: unknown, token?: string) =>
      fetch(`${url}${p}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: JSON.stringify(body),
      });
    const login = await post('/api/v1/auth/login', { email, password });
    expect(login.status).toBe(200);
    const { token } = (await login.json()) as { token: string };
    const list = await fetch(`${url}/api/v1/workflows`, { headers: { authorization: `Bearer ${token}` } });
    const workflows = ((await list.json()) as { data: { id: string; name: string }[] }).data;
    expect(workflows.map((w) => w.name).sort()).toEqual(['research-brief', 'ticket-triage']);
    const triage = workflows.find((w) => w.name === 'ticket-triage')!;
    const started = await post(
      `/api/v1/workflows/${triage.id}/runs`,
      { input: { ticket: 'The printer is on fire' } },
      token,
    );
    expect(started.status).toBe(202);
    const run = (await started.json()) as { id: string };
    const events = await fetch(`${url}/api/v1/runs/${run.id}/events`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const text = await events.text();
    const types = [...text.matchAll(/^event: (\S+)$/gm)].map((m) => m[1]);
    expect(types[0]).toBe('run.queued');
    expect(types).toContain('step.completed');
    expect(types.at(-1)).toBe('run.completed');
    const done = (await (
      await fetch(`${url}/api/v1/runs/${run.id}`, { headers: { authorization: `Bearer ${token}` } })
    ).json()) as {
      output: { category: string; reply: string };
    };
    expect(done.output.category).toBe('bug');
    expect(done.output.reply).toMatch(/printer is on fire/);

    // A second start on the same database seeds nothing again.
    s.child.kill('SIGTERM');
    expect(await s.exited).toBe(0);
    const again = runCli(['start', '--port', '0', '--data-dir', path.join(dir, 'data')], env, dir, children);
    await again.waitFor(/ready at/, 60_000);
    expect(again.out()).not.toMatch(/Demo account/);
    again.child.kill('SIGTERM');
    expect(await again.exited).toBe(0);
  }, 180_000);
});
