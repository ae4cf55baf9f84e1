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
    const [, url] = await s.waitFor(/ready at (http:\/\/\S+)/, 180_000);
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

    // Spam-like words take the spam branch: no reply is drafted.
    const spam = await post(
      `/api/v1/workflows/${triage.id}/runs`,
      { input: { ticket: 'You are a WINNER! Click here to claim your prize' }, wait: 30 },
      token,
    );
    const spamRun = (await spam.json()) as { id: string; status: string; output: unknown };
    expect(spamRun.status).toBe('completed');
    expect(spamRun.output).toEqual({ category: 'spam', reply: null });
    const spamSteps = (
      (await (
        await fetch(`${url}/api/v1/runs/${spamRun.id}`, { headers: { authorization: `Bearer ${token}` } })
      ).json()) as { steps: { nodeId: string; status: string }[] }
    ).steps;
    expect(Object.fromEntries(spamSteps.map((x) => [x.nodeId, x.status]))).toEqual({
      classify: 'completed',
      reply: 'skipped',
      result: 'skipped',
      flagged: 'completed',
    });

    // A lost demo password: `aiops demo reset-password` (server stopped) prints a new one.
    s.child.kill('SIGTERM');
    expect(await s.exited).toBe(0);
    const reset = runCli(
      ['demo', 'reset-password', '--data-dir', path.join(dir, 'data')],
      env,
      dir,
      children,
    );
    expect(await reset.exited, reset.err()).toBe(0);
    const [, resetEmail, newPassword] = reset.out().match(/email:\s+(\S+)\s+password:\s+(\S+)/)!;
    expect(resetEmail).toBe(email);
    expect(newPassword).not.toBe(password);

    // A second start on the same database seeds nothing again; the new password signs in, the old does not.
    const again = runCli(['start', '--port', '0', '--data-dir', path.join(dir, 'data')], env, dir, children);
    const [, url2] = await again.waitFor(/ready at (http:\/\/\S+)/, 180_000);
    expect(again.out()).not.toMatch(/Demo account/);
    const login2 = (pw: string) =>
      fetch(`${url2}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email, password: pw }),
      });
    expect((await login2(newPassword!)).status).toBe(200);
    expect((await login2(password!)).status).toBe(401);
    expect((await fetch(`${url2}/api/v1/me`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(
      401,
    ); // the sessions of the old password were revoked
    again.child.kill('SIGTERM');
    expect(await again.exited).toBe(0);
  }, 180_000);
});
