import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './test-cli.ts';

/** `aiops run file.yaml --local`: no server, no login, a throw-away embedded database that is removed after. */
const children: ChildProcess[] = [];
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'aiops-local-test-'));
  writeFileSync(
    path.join(dir, 'hello.yaml'),
    `name: local-hello
nodes:
  - id: greet
    type: agent
    agent: { model: simulator:echo, prompt: "Hello {{input.who}}" }
  - id: result
    type: output
    value: { greeting: "{{nodes.greet.output}}" }
connections:
  - { from: greet, to: result }
`,
  );
});
afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

describe('aiops run --local', () => {
  it('runs a workflow file on a throw-away PGlite with plain progress, exit 0, and leaves nothing behind', async () => {
    // DATABASE_URL and AIOPS_URL are ignored: --local never touches a server or a shared database.
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: dir,
      XDG_CONFIG_HOME: path.join(dir, 'config'),
      DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none',
      AIOPS_URL: 'http://127.0.0.1:1',
    };
    const p = runCli(['run', 'hello.yaml', '--local', '--input', 'who=Local'], env, dir, children);
    const code = await p.exited;
    if (code !== 0) throw new Error(`exit ${code}: ${p.err()} ${p.out()}`);
    const out = p.out().split('\n');
    expect(out[0]).toMatch(/^run [0-9a-f-]{36} started: local-hello v1$/);
    expect(out).toContain('step greet started (attempt 1)');
    expect(
      out.some((l) => /^step greet completed in (\d+ ms|\d+\.\d s), [1-9]\d* tokens, \$\d+\.\d+$/.test(l)),
    ).toBe(true);
    expect(p.out()).toContain('output: {\n  "greeting": "Hello Local"\n}\n');
    const [, local] = p
      .err()
      .match(/^aiops: starting a throw-away local server \(embedded PGlite in (\S+)\)…$/m)!;
    expect(existsSync(local!)).toBe(false);
  }, 600_000);

  it('a failing file exits 1 with --json printing the failed run', async () => {
    writeFileSync(
      path.join(dir, 'fail.yaml'),
      'name: local-fail\nnodes:\n  - id: boom\n    type: agent\n    agent: { model: simulator:echo, prompt: x, simulate: { failTimes: 9, failWith: fatal } }\n',
    );
    const p = runCli(
      ['run', 'fail.yaml', '--local', '--json'],
      { PATH: process.env.PATH, HOME: dir },
      dir,
      children,
    );
    expect(await p.exited).toBe(1);
    const run = JSON.parse(p.out());
    expect(run.status).toBe('failed');
    expect(run.steps[0]).toMatchObject({ nodeId: 'boom', status: 'failed' });
  }, 600_000);
});
