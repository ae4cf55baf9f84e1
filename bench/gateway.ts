/**
 * `npm run bench:gateway`: the OpenAI-compatible gateway's overhead over calling the provider directly.
 * One local fake OpenAI server; requests go to it directly and through `/v1/chat/completions` (an API key,
 * alias-free `openai:gpt-4o-mini`, the organization's integration, pricing, the usage ledger row and the
 * trace written before answering), interleaved, at a fixed rate (BENCH_RPS, default 200 req/s) for
 * BENCH_SECONDS (default 10). Overhead is the difference of the two latency percentiles (p50, p99).
 * In-process server on in-memory PGlite, or DATABASE_URL.
 */
import { generateKey, parseKeyring, SecretBox } from '@aiops/core';
import { openDb } from '@aiops/db';
import { buildApp } from '@aiops/server';
import { createPostgresDatabase, dropPostgresDatabase, startFakeOpenAI } from '@aiops/testing';

const RPS = Number(process.env.BENCH_RPS ?? 200);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
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

await app.close();
await fake.close();
await db.close();
if (adminUrl && databaseUrl) await dropPostgresDatabase(adminUrl, databaseUrl);
