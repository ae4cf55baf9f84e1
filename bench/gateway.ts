/**
 * `npm run bench:gateway`: the OpenAI-compatible gateway's overhead over calling the provider directly.
 * One local fake OpenAI server; requests go to it directly and through `/v1/chat/completions` (an API key,
 * alias-free `openai:gpt-4o-mini`, the organization's integration, pricing, the budget check; the usage
 * ledger row and the trace are written right after answering), interleaved, at a fixed rate (BENCH_RPS, default 200 req/s) for
 * BENCH_SECONDS (default 10). Overhead is the difference of the two latency percentiles (p50, p99). Then
 * the CPU time per call of each (BENCH_CPU_CALLS, default 300, one at a time): this process's, and
 * PostgreSQL's server processes' (from /proc) when it is the database.
 * In-process server on in-memory PGlite, or DATABASE_URL.
 */

import { readFileSync } from 'node:fs';
import { generateKey, parseKeyring, SecretBox } from '@aiops/core';
import { openDb, queryRows } from '@aiops/db';
import { buildApp } from '@aiops/server';
import { createPostgresDatabase, dropPostgresDatabase, startFakeOpenAI } from '@aiops/testing';
import { sql } from 'drizzle-orm';

const RPS = Number(process.env.BENCH_RPS ?? 200);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CPU_CALLS = Number(process.env.BENCH_CPU_CALLS ?? 300);
const KEY = 'sk-bench-gateway-000000000000';

const adminUrl = process.env.DATABASE_URL;
const databaseUrl = adminUrl ? await createPostgresDatabase(adminUrl) : undefined;
const unlimited = { userPerMinute: 1e9, orgPerMinute: 1e9 };
const db = await openDb(
  databaseUrl
    ? { kind: 'postgres', url: databaseUrl, poolSize: 10, migrate: false }
    : { kind: 'pglite', dataDir: 'memory' },
);
const app = await buildApp({
  db,
  secrets: new SecretBox(parseKeyring(`bench:${generateKey()}`)),
  logLevel: 'warn',
  settings: {
    rateLimits: {
      tiers: { starter: unlimited, professional: unlimited, business: unlimited, enterprise: unlimited },
      anonymousPerMinute: 1e9,
    },
  },
});
const url = await app.listen({ host: '127.0.0.1', port: 0 });
const fake = await startFakeOpenAI('openai', { apiKey: KEY });
fake.replyByDefault({ kind: 'text', text: 'The order shipped yesterday.', usage: { input: 42, output: 7 } });

async function send(path: string, body: unknown, token: string) {
  const res = await fetch(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${path}: ${res.status} ${text}`);
  return JSON.parse(text) as Record<string, unknown>;
}

const signup = await fetch(`${url}/api/v1/auth/signup`, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({
    email: `bench-${Date.now()}@example.test`,
    password: 'Bench-Passw0rd-2026!',
    name: 'Bench',
    organizationName: 'Bench',
  }),
}).then((r) => r.json() as Promise<{ token: string }>);
const token = signup.token;
await fetch(`${url}/api/v1/organization`, {
  method: 'PATCH',
  headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
  body: JSON.stringify({ settings: { allowPrivateNetworks: true } }),
});
await send(
  `${url}/api/v1/integrations`,
  { name: 'OpenAI', provider: 'openai', config: { baseUrl: fake.baseUrl }, credentials: { apiKey: KEY } },
  token,
);
const { key } = (await send(
  `${url}/api/v1/api-keys`,
  { name: 'bench', scopes: ['gateway'], rateLimit: 100_000 },
  token,
)) as { key: string };

const messages = [{ role: 'user', content: 'Where is my order #1234?' }];
const direct = () => send(`${fake.baseUrl}/chat/completions`, { model: 'gpt-4o-mini', messages }, KEY);
const viaGateway = () => send(`${url}/v1/chat/completions`, { model: 'openai:gpt-4o-mini', messages }, key);

for (let i = 0; i < 50; i++) {
  await direct();
  await viaGateway();
}

/**
 * Starts a request every 1/RPS s (open loop), alternating the two targets; each one's latencies. With
 * BENCH_RPS=0, one request at a time for BENCH_SECONDS (closed loop: the overhead without queueing).
 */
async function run(): Promise<{ direct: number[]; gateway: number[]; errors: number }> {
  const out = { direct: [] as number[], gateway: [] as number[], errors: 0 };
  if (RPS === 0) {
    const end = performance.now() + SECONDS * 1000;
    while (performance.now() < end) {
      let t = performance.now();
      await direct();
      out.direct.push(performance.now() - t);
      t = performance.now();
      await viaGateway();
      out.gateway.push(performance.now() - t);
    }
    return out;
  }
  const total = RPS * SECONDS;
  const interval = 1000 / RPS;
  const start = performance.now();
  const pending: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = start + i * interval;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const which = i % 2 === 0 ? 'direct' : 'gateway';
    const t = performance.now();
    pending.push(
      (which === 'direct' ? direct() : viaGateway()).then(
        () => {
          out[which].push(performance.now() - t);
        },
        () => {
          out.errors += 1;
        },
      ),
    );
  }
  await Promise.all(pending);
  return out;
}

const r = await run();
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};
const row = (name: string, xs: number[]) =>
  `| ${name} | ${xs.length} | ${pct(xs, 50).toFixed(2)} ms | ${pct(xs, 99).toFixed(2)} ms |`;
console.log(
  `gateway overhead at ${RPS || 'one-at-a-time'} req/s for ${SECONDS} s on ${databaseUrl ? 'PostgreSQL' : 'PGlite'}`,
);
console.log('| target | requests | p50 | p99 |\n|---|---|---|---|');
console.log(row('provider fake, direct', r.direct));
console.log(row('through /v1/chat/completions', r.gateway));
const p50 = pct(r.gateway, 50) - pct(r.direct, 50);
const p99 = pct(r.gateway, 99) - pct(r.direct, 99);
console.log(
  `overhead p50 ${p50.toFixed(2)} ms (target ≤ 2), p99 ${p99.toFixed(2)} ms (target ≤ 10); errors ${r.errors}`,
);

/** Calls recorded in the usage ledger so far (the gateway records after answering). */
async function recordedCalls(): Promise<number> {
  const [row] = await db.system((tx) =>
    queryRows<{ n: number }>(
      tx,
      sql`SELECT count(*)::int AS n FROM usage_records WHERE resource_type = 'gateway_call'`,
    ),
  );
  return row?.n ?? 0;
}

/**
 * CPU time (ms) of the PostgreSQL server processes serving this database, read from /proc (the server runs
 * on this machine in the benchmark's setups); undefined on PGlite, which runs in this process.
 */
async function postgresCpuMs(): Promise<number | undefined> {
  if (!databaseUrl) return undefined;
  const pids = await db.system((tx) =>
    queryRows<{ pid: number }>(tx, sql`SELECT pid FROM pg_stat_activity WHERE datname = current_database()`),
  );
  let ticks = 0;
  for (const { pid } of pids) {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      ticks += Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15)
    } catch {
      return undefined;
    }
  }
  return ticks * 10; // USER_HZ = 100
}

/**
 * CPU per call, which the machine's load does not inflate the way it does latencies: this process (client,
 * provider fake, server, and PGlite when it is the database) and PostgreSQL's server processes, for
 * CPU_CALLS calls of each target one at a time, the gateway's bookkeeping included (waited for).
 */
async function cpuPerCall(fn: () => Promise<unknown>, settle: () => Promise<void> = async () => {}) {
  const pg0 = await postgresCpuMs();
  const start = process.cpuUsage();
  for (let i = 0; i < CPU_CALLS; i++) await fn();
  await settle();
  const used = process.cpuUsage(start);
  const pg1 = await postgresCpuMs();
  return {
    own: (used.user + used.system) / 1000 / CPU_CALLS,
    postgres: pg0 === undefined || pg1 === undefined ? undefined : (pg1 - pg0) / CPU_CALLS,
  };
}
if (CPU_CALLS > 0) {
  const directCpu = await cpuPerCall(direct);
  const target = (await recordedCalls()) + CPU_CALLS;
  const gatewayCpu = await cpuPerCall(viaGateway, async () => {
    while ((await recordedCalls()) < target) await new Promise((r) => setTimeout(r, 5));
  });
  const fmt = (x: number | undefined) => (x === undefined ? 'n/a' : `${x.toFixed(2)} ms`);
  console.log(`CPU per call over ${CPU_CALLS} calls each, one at a time | this process | PostgreSQL |`);
  console.log(`| provider fake, direct | ${fmt(directCpu.own)} | ${fmt(directCpu.postgres)} |`);
  console.log(
    `| through /v1/chat/completions, recorded | ${fmt(gatewayCpu.own)} | ${fmt(gatewayCpu.postgres)} |`,
  );
}

await app.close();
await fake.close();
await db.close();
if (adminUrl && databaseUrl) await dropPostgresDatabase(adminUrl, databaseUrl);
