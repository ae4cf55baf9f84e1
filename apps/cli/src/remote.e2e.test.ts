import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { testDatabaseUrl } from '@aiops/config';
import { createPostgresDatabase, dropPostgresDatabase, seedPgliteDataDir, testBackend } from '@aiops/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { type CliProcess, runCli } from './test-cli.ts';

/**
 * The developer's story through the `aiops` command against a server that `aiops start` runs (both child
 * processes): log in, validate, push, pull, list, run with live (non-TTY) progress, tail, cancel, rerun,
 * sync targets, eval run.
 */
const children: ChildProcess[] = [];
let dir: string;
let pgUrl: string | undefined;
let server: CliProcess;
let url: string;
const email = 'dev@example.test';
const password = 'Ship-Workflows-2026!';

const GOOD = `name: cli-greet
description: Greets someone
input:
  type: object
  properties:
    who: { type: string }
  required: [who]
nodes:
  - id: greet
    type: agent
    agent:
      model: simulator:echo
      prompt: "Hello {{input.who}}"
  - id: result
    type: output
    value:
      greeting: "{{nodes.greet.output}}"
connections:
  - { from: greet, to: result }
`;

const BAD = `name: cli-broken
nodes:
  - id: first
    type: agent
    agent:
      model: simulator:echo
      prompt: "Hi {{input.x"
  - id: second
    type: teleport
connections:
  - { from: first, to: nowhere }
`;

const FAILING = `name: cli-failing
nodes:
  - id: flaky
    type: agent
    agent:
      model: simulator:echo
      prompt: hi
      simulate: { failTimes: 9, failWith: fatal }
`;

const SLOW = `name: cli-slow
nodes:
  - id: wait
    type: agent
    agent:
      model: simulator:echo
      prompt: slow
      simulate: { latencyMs: 60000 }
`;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'aiops-remote-'));
  const admin = testDatabaseUrl();
  if (admin) pgUrl = await createPostgresDatabase(admin);
  else await seedPgliteDataDir(path.join(dir, 'data'));
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: dir,
    LOG_LEVEL: 'warn',
    AIOPS_DEMO: 'false',
  };
  if (pgUrl) env.DATABASE_URL = pgUrl;
  server = runCli(['start', '--port', '0', '--data-dir', path.join(dir, 'data')], env, dir, children);
  url = (await server.waitFor(/ready at (http:\/\/\S+)/, 280_000))[1]!;
  const signup = await fetch(`${url}/api/v1/auth/signup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password, name: 'Dev', organizationName: 'Dev Org' }),
  });
  expect(signup.status).toBe(201);
  for (const [file, text] of [
    ['good.yaml', GOOD],
    ['bad.yaml', BAD],
    ['failing.yaml', FAILING],
    ['slow.yaml', SLOW],
    ['input.json', '{"who": "Grace"}'],
  ] as const) {
    writeFileSync(path.join(dir, file), text);
  }
}, 300_000);
afterAll(async () => {
  server?.child.kill('SIGTERM');
  await server?.exited;
  for (const c of children) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
  const admin = testDatabaseUrl();
  if (admin && pgUrl) await dropPostgresDatabase(admin, pgUrl);
});

/** The CLI as a user runs it: its own config directory, no server variables, stdout a pipe (not a TTY). */
function aiops(args: string[], extra: NodeJS.ProcessEnv = {}) {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: dir,
    XDG_CONFIG_HOME: path.join(dir, 'config'),
    ...extra,
  };
  return runCli(args, env, dir, children);
}

async function ok(args: string[], extra: NodeJS.ProcessEnv = {}) {
  const p = aiops(args, extra);
  const code = await p.exited;
  if (code !== 0) throw new Error(`aiops ${args.join(' ')} exited ${code}: ${p.err()} ${p.out()}`);
  return p;
}

/** Starts a run through the API with the profile's key (the first workflow of a `workflows list --json`). */
async function startRun(listJson: string, input: Record<string, unknown>) {
  const [workflow] = JSON.parse(listJson) as { id: string }[];
  const file = path.join(dir, 'config', 'aiops', 'config.json');
  const key = JSON.parse(readFileSync(file, 'utf8')).profiles.default.token as string;
  const res = await fetch(`${url}/api/v1/workflows/${workflow!.id}/runs`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ input }),
  });
  expect(res.status).toBe(202);
  return (await res.json()) as { id: string };
}

/** The 1-based line of the first line of `text` containing `needle`. */
const lineOf = (text: string, needle: string) => text.split('\n').findIndex((l) => l.includes(needle)) + 1;

describe(`aiops CLI against a server on ${testBackend()}`, { timeout: 240_000 }, () => {
  let apiKey: string;
  const runIds: string[] = [];

  it('login --email saves a profile holding a new API key, readable by its owner only', async () => {
    const notYet = aiops(['workflows', 'list']);
    expect(await notYet.exited).toBe(2);
    expect(notYet.err()).toMatch(/^aiops: not logged in: run aiops login --url/);

    const wrong = aiops(['login', '--url', url, '--email', email], { AIOPS_PASSWORD: 'Wrong-Password-1!' });
    expect(await wrong.exited).toBe(2);
    expect(wrong.err()).toMatch(/\(invalid_credentials, HTTP 401\)/);

    const login = await ok(['login', '--url', url, '--email', email], { AIOPS_PASSWORD: password });
    const file = path.join(dir, 'config', 'aiops', 'config.json');
    expect(login.out()).toBe(
      `Logged in to ${url} as ${email} (organization Dev Org); profile "default" saved in ${file}\n`,
    );
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const config = JSON.parse(readFileSync(file, 'utf8'));
    expect(config.currentProfile).toBe('default');
    expect(config.profiles.default.url).toBe(url);
    expect(config.profiles.default.token).toMatch(/^aio_\S+$/);
    apiKey = config.profiles.default.token;
  });

  it('workflows validate lists every problem with its line in the file, exit 1; a good file passes', async () => {
    const bad = aiops(['workflows', 'validate', 'bad.yaml']);
    expect(await bad.exited).toBe(1);
    const lines = bad.err().trim().split('\n');
    expect(lines.find((l) => l.includes('nodes.first.agent.prompt'))).toMatch(
      new RegExp(`^bad\\.yaml:${lineOf(BAD, 'prompt:')}:\\d+: nodes\\.first\\.agent\\.prompt: .+`),
    );
    expect(lines.find((l) => l.includes('.type:'))).toMatch(
      new RegExp(
        `^bad\\.yaml:${lineOf(BAD, 'teleport')}:\\d+: nodes\\.second\\.type: unknown node type "teleport"`,
      ),
    );
    expect(lines.find((l) => l.includes('connections'))).toMatch(
      new RegExp(`^bad\\.yaml:${lineOf(BAD, 'nowhere')}:\\d+: connections\\[0\\]\\.to: .*nowhere`),
    );
    expect(lines.at(-1)).toMatch(/^aiops: \d+ problems$/);

    const offline = aiops(['workflows', 'validate', '--offline', 'bad.yaml']);
    expect(await offline.exited).toBe(1);
    expect(offline.err()).toBe(bad.err());

    const good = await ok(['workflows', 'validate', 'good.yaml']);
    expect(good.out()).toBe('good.yaml: valid\n');

    writeFileSync(path.join(dir, 'syntax.yaml'), 'name: x\nnodes: [\n  - id: a\n');
    const syntax = aiops(['workflows', 'validate', 'syntax.yaml']);
    expect(await syntax.exited).toBe(1);
    expect(syntax.err()).toMatch(/^syntax\.yaml:\d+:\d+: \(syntax\): /);
  });

  it('workflows push creates, then saves the next version; list and pull show it', async () => {
    const first = await ok(['workflows', 'push', 'good.yaml']);
    const [, id] = first
      .out()
      .match(/^Created workflow cli-greet \(([0-9a-f-]{36})\): version 1, active\n$/)!;
    writeFileSync(path.join(dir, 'good.yaml'), GOOD.replace('Greets someone', 'Greets anyone'));
    const second = await ok(['workflows', 'push', 'good.yaml', '--note', 'wording']);
    expect(second.out()).toBe(`Updated workflow cli-greet (${id}): version 2, active\n`);

    const list = await ok(['workflows', 'list', '--json']);
    const rows = JSON.parse(list.out()) as { id: string; name: string; version: number }[];
    expect(rows.find((w) => w.id === id)).toMatchObject({ name: 'cli-greet', version: 2 });
    const table = await ok(['workflows', 'list']);
    expect(table.out().split('\n')[0]).toMatch(/^ID\s+NAME\s+STATUS\s+VERSION\s+RUNS\s+LAST RUN$/);
    expect(table.out()).toMatch(new RegExp(`^${id}\\s+cli-greet\\s+active\\s+2\\s+0\\s+-$`, 'm'));

    const pulled = await ok(['workflows', 'pull', 'cli-greet']);
    expect(parse(pulled.out())).toMatchObject({ ...parse(GOOD), description: 'Greets anyone' });
    await ok(['workflows', 'pull', id!, '--workflow-version', '1', '-o', 'v1.yaml']);
    expect(parse(readFileSync(path.join(dir, 'v1.yaml'), 'utf8'))).toMatchObject(parse(GOOD));
  });

  it('run <workflow> --input: plain progress lines when not a TTY, the output, exit 0', async () => {
    const r = await ok(['run', 'cli-greet', '--input', 'who=Ada']);
    const out = r.out().split('\n');
    const [, runId] = out[0]!.match(/^run ([0-9a-f-]{36}) started: cli-greet v2$/)!;
    runIds.push(runId!);
    expect(out).toContain('run queued (version 2)');
    expect(out.indexOf('step greet started (attempt 1)')).toBeGreaterThan(0);
    const greetDone = out.findIndex((l) =>
      /^step greet completed in (\d+ ms|\d+\.\d s), [1-9]\d* tokens, \$\d+\.\d+$/.test(l),
    );
    expect(greetDone).toBeGreaterThan(out.indexOf('step greet started (attempt 1)'));
    expect(out.findIndex((l) => l.startsWith('run completed in '))).toBeGreaterThan(greetDone);
    expect(r.out()).toContain('output: {\n  "greeting": "Hello Ada"\n}\n');
    expect(out.at(-2)).toMatch(
      new RegExp(`^run ${runId} completed: 2/2 steps, [1-9]\\d* tokens, \\$\\d+\\.\\d+, \\d+ ms$`),
    );
  });

  it('run file.yaml --input-file --json: the finished run as JSON only', async () => {
    const r = await ok(['run', 'good.yaml', '--input-file', 'input.json', '--json']);
    const run = JSON.parse(r.out());
    expect(run).toMatchObject({
      status: 'completed',
      workflowVersion: 3,
      output: { greeting: 'Hello Grace' },
    });
    expect(run.steps.map((s: { nodeId: string }) => s.nodeId)).toEqual(['greet', 'result']);
    runIds.push(run.id);
  });

  it('a failed run exits 1 and says why; bad input exits 2', async () => {
    const failed = aiops(['run', 'failing.yaml']);
    expect(await failed.exited).toBe(1);
    expect(failed.out()).toMatch(/^step flaky failed \(attempt 1\): .+$/m);
    expect(failed.err()).toMatch(/^aiops: run failed: .+ \(\w+\)$/m);

    const noInput = aiops(['run', 'cli-greet']);
    expect(await noInput.exited).toBe(2);
    expect(noInput.err()).toMatch(/HTTP 400\)/);
    const badPair = aiops(['run', 'cli-greet', '--input', 'novalue']);
    expect(await badPair.exited).toBe(2);
    expect(badPair.err()).toBe('aiops: --input novalue: write key=value\n');
  });

  it('runs list, get, tail and rerun', async () => {
    const list = JSON.parse((await ok(['runs', 'list', '--workflow', 'cli-greet', '--json'])).out()) as {
      id: string;
    }[];
    expect(list.map((r) => r.id)).toEqual(expect.arrayContaining(runIds));
    const get = await ok(['runs', 'get', runIds[0]!]);
    expect(get.out()).toMatch(
      new RegExp(`^run ${runIds[0]}\\n  workflow  [0-9a-f-]{36} v2\\n  status    completed\\n`),
    );
    expect(get.out()).toMatch(/^greet\s+agent\s+completed\s+1\s+[1-9]\d*\s+\$\d/m);

    const tail = await ok(['runs', 'tail', runIds[0]!]);
    expect(tail.out()).toMatch(/ INFO {2}greet: Step agent greet started \(attempt 1\)$/m);
    expect(tail.out()).toMatch(/^run completed in /m);

    const rerun = await ok(['runs', 'rerun', runIds[0]!, '--from-step', 'result']);
    expect(rerun.out()).toMatch(
      new RegExp(`^run [0-9a-f-]{36} started: rerun of ${runIds[0]} from result$`, 'm'),
    );
    expect(rerun.out()).toContain('"greeting": "Hello Ada"');
  });

  it('logs tail follows the runs of a workflow that start later', async () => {
    const tailLogs = aiops(['logs', 'tail', '--workflow', 'cli-greet']);
    await new Promise((r) => setTimeout(r, 3000));
    const run = await startRun((await ok(['workflows', 'list', '-q', 'cli-greet', '--json'])).out(), {
      who: 'Tail',
    });
    const prefix = run.id.slice(0, 8);
    await tailLogs.waitFor(
      new RegExp(`^${prefix} \\S+ INFO {2}greet: Step agent greet completed in \\d+ ms`, 'm'),
      120_000,
    );
    await tailLogs.waitFor(new RegExp(`^${prefix} run completed in `, 'm'), 60_000);
    tailLogs.child.kill('SIGTERM');
  });

  it('runs cancel stops a run; its tail then exits 3', async () => {
    await ok(['workflows', 'push', 'slow.yaml']);
    const run = await startRun((await ok(['workflows', 'list', '-q', 'cli-slow', '--json'])).out(), {});
    const cancel = await ok(['runs', 'cancel', run.id]);
    expect(cancel.out()).toBe(`run ${run.id} cancelled\n`);
    const tail = aiops(['runs', 'tail', run.id]);
    expect(await tail.exited).toBe(3);
    expect(tail.out()).toMatch(/^run cancelled in /m);
    const again = aiops(['runs', 'cancel', run.id]);
    expect(await again.exited).toBe(2);
    expect(again.err()).toMatch(/HTTP 409\)\n$/);
  });

  it('sync list, test and resync a sync target by name', async () => {
    const statuses = [503, 200];
    const receiver = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.statusCode = statuses.shift() ?? 200;
        res.end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    try {
      // The owner signs in (changing the organization's network policy is not for API keys).
      const signin = await fetch(`${url}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email, password }),
      });
      const { token } = (await signin.json()) as { token: string };
      const api = (method: string, p: string, body?: unknown) =>
        fetch(`${url}/api/v1${p}`, {
          method,
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          ...(body ? { body: JSON.stringify(body) } : {}),
        });
      expect((await api('PATCH', '/organization', { settings: { allowPrivateNetworks: true } })).status).toBe(
        200,
      );
      const port = (receiver.address() as AddressInfo).port;
      const created = await api('POST', '/sync-targets', {
        name: 'bridge',
        url: `http://127.0.0.1:${port}/in`,
        apiKey: 'bridge-secret-key',
        intervalSeconds: 3600,
        enabled: false,
      });
      expect(created.status).toBe(201);
      // The key `login --email` made has no integration scopes: a clear 403; a token that has them works.
      const noScope = aiops(['sync', 'list']);
      expect(await noScope.exited).toBe(2);
      expect(noScope.err()).toMatch(/"integration:read", which this API key does not grant/);
      const as = { AIOPS_URL: url, AIOPS_TOKEN: token };
      const list = await ok(['sync', 'list'], as);
      expect(list.out()).toMatch(/^ID\s+NAME\s+ENABLED\s+STATUS\s+CURSOR\s+LAST SYNC\s+LAST ERROR$/m);
      expect(list.out()).toMatch(/\sbridge\s+no\s+pending\s+0\s+-/);
      const refused = aiops(['sync', 'test', 'bridge'], as);
      expect(await refused.exited).toBe(1);
      expect(refused.err()).toBe('aiops: test batch to bridge failed: HTTP 503\n');
      expect((await ok(['sync', 'test', 'bridge'], as)).out()).toMatch(
        /^test batch to bridge accepted: HTTP 200 in \d+ ms\n$/,
      );
      expect((await ok(['sync', 'resync', 'bridge'], as)).out()).toBe(
        'full resync of bridge started: every retained event is sent again\n',
      );
      const missing = aiops(['sync', 'resync', 'nowhere'], as);
      expect(await missing.exited).toBe(2);
      expect(missing.err()).toMatch(/nowhere: no such sync target/);
    } finally {
      receiver.close();
    }
  });

  it('eval run: an experiment followed to its end, a results table, the pass-rate bar as exit code', async () => {
    const signin = await fetch(`${url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password }),
    });
    const { token } = (await signin.json()) as { token: string };
    const api = async (p: string, body: unknown) => {
      const res = await fetch(`${url}/api/v1${p}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(res.status, p).toBe(201);
      return (await res.json()) as { id: string };
    };
    const ds = await api('/datasets', { name: 'greetings' });
    await api(`/datasets/${ds.id}/items`, { items: [{ input: { who: 'Ada' } }, { input: { who: 'Bob' } }] });
    await api('/evaluators', {
      name: 'says hello',
      kind: 'rule',
      config: { rule: 'contains', value: 'Hello' },
    });
    await api('/evaluators', { name: 'names Ada', kind: 'rule', config: { rule: 'contains', value: 'Ada' } });

    const args = (dataset: string) => [
      'eval',
      'run',
      '--dataset',
      dataset,
      '--workflow',
      'cli-greet',
      '-e',
      'says hello',
    ];
    const unknown = aiops(args('nope'));
    expect(await unknown.exited).toBe(2);
    expect(unknown.err()).toMatch(/^aiops: no dataset named "nope" \(datasets: "greetings"; see them /);

    const r = await ok([...args('greetings'), '--evaluator', 'names Ada', '--workflow-version', '2']);
    const out = r.out().split('\n');
    expect(out[0]).toMatch(
      /^experiment [0-9a-f-]{36} started: greetings v2 × cli-greet v2, 2 items, evaluators says hello, names Ada$/,
    );
    expect(out).toContainEqual(expect.stringMatching(/^progress 2\/2 items, [1-9]\d* tokens, \$\d/));
    expect(r.out()).toMatch(/^#\s+INPUT\s+PASSED\s+SAYS HELLO\s+NAMES ADA\s+TOKENS\s+COST\s+LATENCY$/m);
    expect(r.out()).toMatch(/^1\s+\{"who":"Ada"\}\s+yes\s+100 ✔\s+100 ✔\s+[1-9]\d*\s+\$\d/m);
    expect(r.out()).toMatch(/^2\s+\{"who":"Bob"\}\s+no\s+100 ✔\s+0 ✖\s+/m);
    expect(r.out()).toMatch(/^EVALUATOR\s+MEAN\s+P50\s+PASS RATE\s+SCORED$/m);
    expect(r.out()).toMatch(/^names Ada\s+50\s+50\s+50%\s+2$/m);
    expect(out.at(-2)).toMatch(
      /^experiment [0-9a-f-]{36} completed: 2\/2 items, 0 failed runs, [1-9]\d* tokens/,
    );

    const short = aiops([...args('greetings'), '-e', 'names Ada', '--min-pass-rate', '0.8', '--json']);
    expect(await short.exited).toBe(1);
    const result = JSON.parse(short.out());
    expect(result).toMatchObject({ status: 'completed', workflowVersion: 3, doneItems: 2 });
    expect(result.items).toHaveLength(2);
    expect(short.err()).toBe('aiops: below the bar: names Ada: pass rate 50% < 80%\n');
  });

  it('AIOPS_URL and AIOPS_TOKEN override the profile; a wrong token exits 2 with the server message', async () => {
    const wrong = aiops(['workflows', 'list'], { AIOPS_TOKEN: 'aio_not_a_key' });
    expect(await wrong.exited).toBe(2);
    expect(wrong.err()).toMatch(/HTTP 401\)\n$/);
    const env = await ok(['workflows', 'list', '--json'], {
      AIOPS_URL: url,
      AIOPS_TOKEN: apiKey,
      XDG_CONFIG_HOME: path.join(dir, 'none'),
    });
    expect((JSON.parse(env.out()) as { name: string }[]).map((w) => w.name)).toContain('cli-greet');
  });
  it('org export writes the archive; org import --dry-run reports, then creates the organization', async () => {
    const other = aiops(['org', 'export', 'Some Other Org', '--out', 'org.gz']);
    expect(await other.exited).toBe(2);
    expect(other.err()).toMatch(/credential is for organization Dev Org/);
    const exp = await ok([
      'org',
      'export',
      'Dev Org',
      '--out',
      'org.gz',
      '--include-runs',
      '--password',
      'cli export pw',
    ]);
    expect(exp.out()).toMatch(
      /^Exported Dev Org to org\.gz \(\d+ bytes; secrets encrypted under the password\)\n$/,
    );
    const dry = await ok(['org', 'import', 'org.gz', '--dry-run'], {
      AIOPS_EXPORT_PASSWORD: 'cli export pw',
    });
    expect(dry.out()).toMatch(/^Dry run: would create organization Dev Org\n/);
    expect(dry.out()).toMatch(/^ {2}workflows: [1-9]\d*$/m);
    const done = await ok(['org', 'import', 'org.gz', '--name', 'Dev Org Copy', '--json'], {
      AIOPS_EXPORT_PASSWORD: 'cli export pw',
    });
    const report = JSON.parse(done.out()) as { dryRun: boolean; organization: { id: string; name: string } };
    expect(report).toMatchObject({ dryRun: false, organization: { name: 'Dev Org Copy' } });
    expect(report.organization.id).toMatch(/^[0-9a-f-]{36}$/);
  });
});
