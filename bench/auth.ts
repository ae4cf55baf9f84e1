/**
 * `npm run bench:auth`: sign-in latency and the cost of authentication on a trivial GET, measured against
 * an in-process server on in-memory PGlite (or DATABASE_URL). Prints one table.
 *   BENCH_SECONDS (default 10) per autocannon run, BENCH_CONNECTIONS (default 10), BENCH_LOGINS (default 50)
 */
import { generateKey, parseKeyring, SecretBox } from '@aiops/core';
import { openDb } from '@aiops/db';
import { buildApp } from '@aiops/server';
import { createPostgresDatabase, dropPostgresDatabase } from '@aiops/testing';
import autocannon from 'autocannon';

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 10);
const logins = Number(process.env.BENCH_LOGINS ?? 50);
// On PostgreSQL, a fresh database cloned from the migrated template, dropped at the end.
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

async function post(path: string, body: unknown, token?: string) {
  const res = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return res.json() as Promise<Record<string, string> & { key: string }>;
}

const email = `bench-${Date.now()}@example.test`;
const password = 'Bench-Passw0rd-2026!';
const { token } = await post('/api/v1/auth/signup', {
  email,
  password,
  name: 'Bench',
  organizationName: 'Bench',
});
const { key } = await post(
  '/api/v1/api-keys',
  { name: 'bench', scopes: ['organization:read'], rateLimit: 100_000 },
  token,
);

const times: number[] = [];
for (let i = 0; i < logins; i++) {
  const t = performance.now();
  await post('/api/v1/auth/login', { email, password });
  times.push(performance.now() - t);
}
times.sort((a, b) => a - b);
const pct = (p: number) =>
  times[Math.min(times.length - 1, Math.floor((p / 100) * times.length))]!.toFixed(1);

async function load(name: string, path: string, auth?: string) {
  const r = await autocannon({
    url: `${url}${path}`,
    connections,
    duration: seconds,
    headers: auth ? { authorization: `Bearer ${auth}` } : {},
  });
  const bad = r.non2xx + r.errors;
  return { name, rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, bad };
}

const rows = [
  await load('GET /healthz (no auth, baseline)', '/healthz'),
  await load('GET /api/v1/organization, access token', '/api/v1/organization', token),
  await load('GET /api/v1/organization, API key', '/api/v1/organization', key),
];

console.log(
  `\nbackend: ${db.kind}; ${connections} connections, ${seconds} s per run; Node ${process.version}`,
);
console.log(`login (argon2id 19 MiB, t=2), ${logins} sequential: p50 ${pct(50)} ms, p95 ${pct(95)} ms\n`);
console.log('| request | req/s | p50 ms | p99 ms | non-2xx |');
console.log('|---|---:|---:|---:|---:|');
for (const r of rows) console.log(`| ${r.name} | ${r.rps.toFixed(0)} | ${r.p50} | ${r.p99} | ${r.bad} |`);

// autocannon stops on time with requests still in flight: let them finish before closing.
await new Promise((r) => setTimeout(r, 1000));
await app.close();
await db.close();
if (adminUrl && databaseUrl) await dropPostgresDatabase(adminUrl, databaseUrl);
