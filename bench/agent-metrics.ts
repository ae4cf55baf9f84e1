/**
 * `npm run bench:agent-metrics`: GET /metrics/agents over 30 days of a busy organization, through HTTP, on
 * in-memory PGlite (or DATABASE_URL). Seeds raw agent metric samples spread over the last 30 days, runs the
 * rollup job once (timed), then times each query shape. Prints one table.
 *   BENCH_ATTEMPTS (default 1,000,000 samples), BENCH_AGENTS (default 40), BENCH_QUERIES (default 20 each)
 */
import { randomUUID } from 'node:crypto';
import { generateKey, parseKeyring, SecretBox } from '@aiops/core';
import { openDb } from '@aiops/db';
import { buildApp, JOBS, runJobNow } from '@aiops/server';
import { createPostgresDatabase, dropPostgresDatabase } from '@aiops/testing';
import { sql } from 'drizzle-orm';

const attempts = Number(process.env.BENCH_ATTEMPTS ?? 1_000_000);
const agents = Number(process.env.BENCH_AGENTS ?? 40);
const queries = Number(process.env.BENCH_QUERIES ?? 20);
const DAY = 86_400_000;
const adminUrl = process.env.DATABASE_URL;
const databaseUrl = adminUrl ? await createPostgresDatabase(adminUrl) : undefined;
const db = await openDb(
  databaseUrl
    ? { kind: 'postgres', url: databaseUrl, poolSize: 10, migrate: false }
    : { kind: 'pglite', dataDir: 'memory' },
);
const unlimited = { userPerMinute: 1e9, orgPerMinute: 1e9 };
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
const signup = await fetch(`${url}/api/v1/auth/signup`, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({
    email: `bench-${Date.now()}@example.test`,
    password: 'Bench-Passw0rd-2026!',
    name: 'Bench',
    organizationName: 'Busy',
  }),
});
const { token, organization } = (await signup.json()) as { token: string; organization: { id: string } };
const org = organization.id;

const now = new Date();
const agentIds = Array.from({ length: agents }, () => randomUUID());
const workflows = Array.from({ length: 8 }, () => randomUUID());
const models = [
  'openai:gpt-4o',
  'openai:gpt-4o-mini',
  'anthropic:claude-sonnet-4-5',
  'google:gemini-2.5-flash',
];

let t = performance.now();
await db.system(async (tx) => {
  for (let m = 0; m <= 1; m++) {
    const month = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - m, 1));
    await tx.execute(
      sql`SELECT aiops_ensure_month_partition('agent_metrics', ${month.toISOString().slice(0, 10)}::date)`,
    );
  }
});
const chunk = 100_000;
for (let done = 0; done < attempts; done += chunk) {
  const n = Math.min(chunk, attempts - done);
  await db.system((tx) =>
    tx.execute(sql`INSERT INTO agent_metrics (organization_id, recorded_at, agent_id, model, workflow_id, tool,
        latency_ms, input_tokens, output_tokens, tokens, cost, error)
      SELECT ${org}, ${now.toISOString()}::timestamptz - random() * interval '30 days',
        (${`{${agentIds.join(',')}}`}::uuid[])[1 + (g % ${agents})],
        (${`{${models.join(',')}}`}::text[])[1 + (g % 4)],
        (${`{${workflows.join(',')}}`}::uuid[])[1 + (g % 8)],
        CASE WHEN g % 10 = 0 THEN 'http_request' ELSE '' END,
        (exp(random() * 6) * 20)::int, i, o, i + o, ((i * 2.5 + o * 10) / 1e6)::numeric(24, 12),
        CASE WHEN random() < 0.03 THEN 1 ELSE 0 END
      FROM (SELECT g, (random() * 3000)::int AS i, (random() * 800)::int AS o FROM generate_series(1, ${n}) g) s`),
  );
}
const seedMs = performance.now() - t;
t = performance.now();
await runJobNow(JOBS.find((j) => j.name === 'observability.rollup-agent-metrics')!, app.jobDeps, now);
const rollupMs = performance.now() - t;

const from = new Date(now.getTime() - 30 * DAY).toISOString();
const shapes: [string, string][] = [
  ['one agent, p50/p95/p99 latency by day', `agentId=${agentIds[0]}&metric=latency&interval=day`],
  ['one agent, latency by hour (720 buckets)', `agentId=${agentIds[0]}&metric=latency&interval=hour`],
  ['one agent, cost by day', `agentId=${agentIds[1]}&metric=cost&interval=day`],
  ['whole organization, tokens by day', `metric=tokens&interval=day`],
  ['whole organization, error rate by hour', `metric=error&interval=hour`],
  [
    'one agent and model (full grain), by day',
    `agentId=${agentIds[0]}&model=${models[0]}&metric=latency&interval=day`,
  ],
];
const once = (query: string) =>
  fetch(`${url}/api/v1/metrics/agents?${query}&from=${from}&to=${now.toISOString()}`, {
    headers: { authorization: `Bearer ${token}` },
  });
// A keep-alive socket left idle through the long seeding may be closed under the first request: retry once.
const get = (query: string) => once(query).catch(() => once(query));
// Warm-up (JIT, plans, buffer cache): five untimed rounds of every shape.
for (let i = 0; i < 5; i++) for (const [, query] of shapes) await (await get(query)).arrayBuffer();
const rows: string[] = [];
for (const [name, query] of shapes) {
  const times: number[] = [];
  let count = 0;
  for (let i = 0; i < queries; i++) {
    const start = performance.now();
    const res = await get(query);
    const body = (await res.json()) as { totals: { count: number } };
    if (res.status !== 200) throw new Error(`${query}: ${res.status} ${JSON.stringify(body)}`);
    times.push(performance.now() - start);
    count = body.totals.count;
  }
  times.sort((a, b) => a - b);
  const p = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))]!.toFixed(1);
  rows.push(
    `| ${name.padEnd(44)} | ${String(count).padStart(9)} | ${p(0.5).padStart(7)} | ${p(0.95).padStart(7)} | ${times.at(-1)!.toFixed(1).padStart(7)} |`,
  );
}
console.log(
  `agent metrics on ${databaseUrl ? 'PostgreSQL' : 'PGlite'}: ${attempts.toLocaleString('en')} samples over 30 days, ${agents} agents; seed ${(seedMs / 1000).toFixed(1)} s, rollup job ${(rollupMs / 1000).toFixed(1)} s`,
);
console.log('| query (30 days, through HTTP)                | samples   | p50 ms  | p95 ms  | max ms  |');
console.log('| -------------------------------------------- | --------- | ------- | ------- | ------- |');
for (const r of rows) console.log(r);
await app.close();
await db.close();
if (adminUrl && databaseUrl) await dropPostgresDatabase(adminUrl, databaseUrl);
