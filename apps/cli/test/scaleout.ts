/**
 * The scale-out fault harness (issue 23, item 4), shared by `apps/cli/src/scaleout.int.test.ts` and
 * `npm run bench:scaleout`: a private PostgreSQL 15 cluster in a temp dir (never the shared server), a TCP
 * proxy in front of it whose network can be cut, N `aiops start --role api` and M `--role worker` processes
 * on it, a round-robin TCP proxy in front of the API processes, a steady load of runs started over HTTP,
 * the faults, and the checks (every acknowledged run reaches a final state exactly once).
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { appendFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);
export const PG_BIN = process.env.AIOPS_PG_BIN ?? '/usr/lib/postgresql/15/bin';
const MAIN = path.resolve(import.meta.dirname, '../src/main.ts');
const TSX = import.meta.resolve('tsx');
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Why the fault test cannot run here, or undefined when it can (PostgreSQL 15 binaries, root or postgres). */
export function cannotRun(): string | undefined {
  if (!existsSync(path.join(PG_BIN, 'initdb'))) return `no PostgreSQL 15 binaries in ${PG_BIN}`;
  const uid = process.getuid?.();
  if (uid !== 0) return 'needs root (to run initdb and pg_ctl as the postgres OS user)';
  if (!existsSync('/usr/sbin/runuser') && !existsSync('/sbin/runuser')) return 'needs runuser';
  return undefined;
}

export async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

/** A private PostgreSQL cluster owned by the postgres OS user, on a free port. */
export interface PgCluster {
  port: number;
  url: string;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export async function startPgCluster(): Promise<PgCluster> {
  const base = mkdtempSync(path.join(os.tmpdir(), 'aiops-scaleout-pg-'));
  const pgUser = await run('id', ['-u', 'postgres']);
  const pgGroup = await run('id', ['-g', 'postgres']);
  chownSync(base, Number(pgUser.stdout.trim()), Number(pgGroup.stdout.trim()));
  const dir = path.join(base, 'data');
  const port = await freePort();
  const asPostgres = (bin: string, args: string[]) =>
    run('runuser', ['-u', 'postgres', '--', path.join(PG_BIN, bin), ...args], { timeout: 60_000 });
  await asPostgres('initdb', ['-D', dir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  await appendFile(
    path.join(dir, 'postgresql.conf'),
    [
      `port = ${port}`,
      `listen_addresses = '127.0.0.1'`,
      `unix_socket_directories = '${base}'`,
      'max_connections = 200',
      'fsync = off',
      'synchronous_commit = off',
      'full_page_writes = off',
      'shared_buffers = 64MB',
      '',
    ].join('\n'),
  );
  const ctl = (args: string[]) =>
    asPostgres('pg_ctl', ['-D', dir, '-l', path.join(base, 'log'), '-w', ...args]);
  await ctl(['start']);
  // If this process ends without `stop()` (a crash, an uncaught error), the cluster must not outlive it.
  const onExit = () => {
    try {
      execFileSync(
        'runuser',
        ['-u', 'postgres', '--', path.join(PG_BIN, 'pg_ctl'), '-D', dir, 'stop', '-m', 'immediate'],
        {
          stdio: 'ignore',
        },
      );
    } catch {}
    rmSync(base, { recursive: true, force: true });
  };
  process.once('exit', onExit);
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query('CREATE DATABASE aiops');
  await admin.end();
  return {
    port,
    url: `postgres://postgres@127.0.0.1:${port}/aiops`,
    restart: async () => {
      await ctl(['restart', '-m', 'fast']);
    },
    stop: async () => {
      process.off('exit', onExit);
      await ctl(['stop', '-m', 'immediate']).catch(() => {});
      rmSync(base, { recursive: true, force: true });
    },
  };
}

/**
 * A TCP proxy: each connection goes to the next target (round robin; a target that refuses is skipped).
 * `cut()` drops every connection and resets new ones until `restore()`: a network outage.
 */
export interface TcpProxy {
  port: number;
  targets: number[];
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(targets: number[]): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>();
  let down = false;
  let next = 0;
  const track = (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
  };
  const server = net.createServer((client) => {
    track(client);
    if (down) return client.destroy();
    const tryTarget = (left: number) => {
      const list = proxy.targets;
      if (!list.length || left === 0) return client.destroy();
      const port = list[next++ % list.length]!;
      const upstream = net.connect(port, '127.0.0.1');
      track(upstream);
      let connected = false;
      upstream.once('connect', () => {
        connected = true;
        client.pipe(upstream);
        upstream.pipe(client);
        upstream.on('close', () => client.destroy());
        client.on('close', () => upstream.destroy());
      });
      upstream.once('error', () => {
        if (connected) return client.destroy();
        tryTarget(left - 1);
      });
    };
    // Paused until piped: bytes the client sends before the upstream connects wait in its buffer.
    client.pause();
    tryTarget(proxy.targets.length);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const proxy: TcpProxy = {
    port: (server.address() as net.AddressInfo).port,
    targets,
    cut() {
      down = true;
      for (const s of sockets) s.destroy();
    },
    restore() {
      down = false;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
  return proxy;
}

/** One `aiops start` process. */
export interface Node {
  role: 'api' | 'worker';
  name: string;
  port: number;
  child: ReturnType<typeof spawn>;
  alive(): boolean;
  output(): string;
}

export function startNode(
  role: 'api' | 'worker',
  name: string,
  env: NodeJS.ProcessEnv,
  timeoutMs = 60_000,
): Promise<Node> {
  const child = spawn(process.execPath, ['--import', TSX, MAIN, 'start', '--role', role, '--port', '0'], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const keep = (d: Buffer) => {
    out = (out + d.toString()).slice(-20_000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${name} did not start within ${timeoutMs} ms: ${out.slice(-3000)}`));
    }, timeoutMs);
    const onData = () => {
      const m = /ready at http:\/\/[^:]+:(\d+)/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      child.stdout.off('data', onData);
      resolve({
        role,
        name,
        port: Number(m[1]),
        child,
        alive: () => child.exitCode === null && child.signalCode === null,
        output: () => out,
      });
    };
    child.stdout.on('data', onData);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code ?? signal}) before it was ready: ${out.slice(-3000)}`));
    });
  });
}

export interface Answer {
  at: number;
  status: number;
  retryAfter?: string | undefined;
  runId?: string | undefined;
  code?: string | undefined;
  error?: string | undefined;
}

/** One HTTP request on its own connection (so the round-robin proxy spreads them). */
export function request(
  port: number,
  method: string,
  p: string,
  body?: unknown,
  token?: string,
  timeoutMs = 20_000,
): Promise<{ status: number; headers: http.IncomingHttpHeaders; json: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method,
        path: p,
        agent: false,
        timeout: timeoutMs,
        headers: {
          ...(data ? { 'content-type': 'application/json' } : {}),
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
      },
      (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => {
          let json: Record<string, unknown> = {};
          try {
            json = JSON.parse(text) as Record<string, unknown>;
          } catch {
            json = { raw: text };
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, json });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(data);
  });
}

/** Signs up through the API, raises the tier (rate limits), makes an API key and a two-step workflow. */
export async function prepareTenant(
  apiPort: number,
  stepMs = 300,
): Promise<{ key: string; workflowId: string }> {
  const signup = await request(apiPort, 'POST', '/api/v1/auth/signup', {
    email: `scaleout-${Date.now()}@example.test`,
    password: 'Scaleout-Passw0rd-2026!',
    name: 'Scale Out',
    organizationName: 'Scale Out',
  });
  if (signup.status !== 201 && signup.status !== 200)
    throw new Error(`signup: ${JSON.stringify(signup.json)}`);
  const token = signup.json.token as string;
  const tier = await request(
    apiPort,
    'PATCH',
    '/api/v1/organization',
    { subscriptionTier: 'enterprise' },
    token,
  );
  if (tier.status !== 200) throw new Error(`tier: ${JSON.stringify(tier.json)}`);
  const k = await request(
    apiPort,
    'POST',
    '/api/v1/api-keys',
    {
      name: 'scaleout',
      scopes: ['workflow:create', 'workflow:read', 'workflow:execute', 'run:read'],
      rateLimit: 100_000,
    },
    token,
  );
  if (k.status !== 201) throw new Error(`api key: ${JSON.stringify(k.json)}`);
  const key = k.json.key as string;
  // Each step takes `stepMs` (the simulator waits), so a killed worker or an outage catches steps mid-flight.
  const step = (id: string) => ({
    id,
    type: 'agent',
    agent: { model: 'simulator:echo', prompt: `step ${id}`, simulate: { latencyMs: stepMs } },
  });
  const wf = await request(
    apiPort,
    'POST',
    '/api/v1/workflows',
    {
      definition: {
        name: 'scaleout',
        nodes: [step('a'), step('b')],
        connections: [{ from: 'a', to: 'b' }],
      },
      status: 'active',
    },
    key,
  );
  if (wf.status !== 201) throw new Error(`workflow: ${JSON.stringify(wf.json)}`);
  return { key, workflowId: wf.json.id as string };
}

/** Starts a run every `everyMs` (at most `maxInFlight` waiting) through `port` until `stop()`. */
export function steadyLoad(port: number, key: string, workflowId: string, everyMs: number, maxInFlight = 32) {
  const answers: Answer[] = [];
  let inFlight = 0;
  let stopped = false;
  const pending = new Set<Promise<void>>();
  const fire = () => {
    if (inFlight >= maxInFlight) return;
    inFlight++;
    const at = Date.now();
    const p = request(port, 'POST', `/api/v1/workflows/${workflowId}/runs`, { input: { n: 1 } }, key)
      .then((r) => {
        const error = r.json.error as { code?: string } | undefined;
        answers.push({
          at,
          status: r.status,
          retryAfter: r.headers['retry-after'] as string | undefined,
          runId: r.status < 300 ? (r.json.id as string) : undefined,
          code: error?.code,
        });
      })
      .catch((e: Error) => {
        answers.push({ at, status: 0, error: e.message });
      })
      .finally(() => {
        inFlight--;
        pending.delete(p);
      });
    pending.add(p);
  };
  const timer = setInterval(() => {
    if (!stopped) fire();
  }, everyMs);
  return {
    answers,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await Promise.all([...pending]);
    },
  };
}

export interface RunCheck {
  acknowledged: number;
  /** Acknowledged runs with no row, or whose row is not in a final state. */
  lost: string[];
  notFinal: string[];
  /** Runs with a node completed more than once, and rows with the same id counted twice. */
  doubled: string[];
  byStatus: Record<string, number>;
  /** Step attempts that did not complete (a killed worker's lost lease, a connection cut mid-step). */
  failedAttempts: number;
}

const FINAL = new Set(['completed', 'failed', 'cancelled', 'timed_out']);

/** Runs `fn` with a connection of its own to `url` (as its superuser, not through the proxy), then closes it. */
async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** Reads the acknowledged runs straight from PostgreSQL (as its superuser, not through the proxy). */
export async function checkRuns(url: string, ids: string[]): Promise<RunCheck> {
  return withClient(url, async (c) => {
    const runs = await c.query<{ id: string; status: string }>(
      'SELECT id, status FROM workflow_executions WHERE id = ANY($1::uuid[])',
      [ids],
    );
    const seen = new Map<string, string>();
    const doubled: string[] = [];
    for (const r of runs.rows) {
      if (seen.has(r.id)) doubled.push(r.id);
      seen.set(r.id, r.status);
    }
    const twice = await c.query<{ id: string }>(
      `SELECT workflow_execution_id AS id FROM agent_executions
        WHERE workflow_execution_id = ANY($1::uuid[]) AND status = 'completed'
        GROUP BY workflow_execution_id, node_id HAVING count(*) > 1`,
      [ids],
    );
    doubled.push(...twice.rows.map((r) => r.id));
    const failed = await c.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM agent_executions
        WHERE workflow_execution_id = ANY($1::uuid[]) AND status <> 'completed'`,
      [ids],
    );
    const byStatus: Record<string, number> = {};
    for (const s of seen.values()) byStatus[s] = (byStatus[s] ?? 0) + 1;
    return {
      acknowledged: ids.length,
      lost: ids.filter((id) => !seen.has(id)),
      notFinal: ids.filter((id) => seen.has(id) && !FINAL.has(seen.get(id)!)),
      doubled: [...new Set(doubled)],
      byStatus,
      failedAttempts: failed.rows[0]?.n ?? 0,
    };
  });
}

/** Connections whose last statement was a LISTEN: one per process that listens, after every fault. */
export async function listenConnections(url: string): Promise<number> {
  return withClient(url, async (c) => {
    const r = await c.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity
        WHERE datname = 'aiops' AND state = 'idle' AND query ILIKE 'LISTEN %'`,
    );
    return r.rows[0]?.n ?? 0;
  });
}

/**
 * What the database's connections are doing (state, wait, transaction age, query): logged when a
 * process stays unready, to tell a hung connection from a lock wait or a transaction left open.
 */
export async function connectionActivity(url: string): Promise<string> {
  return withClient(url, async (c) => {
    const r = await c.query<Record<string, unknown>>(
      `SELECT pid, client_port AS port, state, wait_event_type AS wait_type, wait_event AS wait,
              round(extract(epoch FROM now() - xact_start) * 1000) AS xact_ms,
              round(extract(epoch FROM now() - state_change) * 1000) AS state_ms, left(query, 120) AS query
         FROM pg_stat_activity WHERE datname = 'aiops' AND pid <> pg_backend_pid() ORDER BY client_port`,
    );
    return r.rows.map((row) => JSON.stringify(row)).join('\n');
  });
}

/** Waits until `check` is true (short polls), or throws after `ms`. */
export async function until(what: string, ms: number, check: () => Promise<boolean> | boolean) {
  const end = Date.now() + ms;
  for (;;) {
    if (await check()) return;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(100);
  }
}
