/**
 * `npm run bench:knowledge` (issue 18), on PostgreSQL and PGlite:
 *
 * 1. Hybrid terminology search (full-text + trigram + semantic, one ranked statement) over a 10,000-term
 *    dictionary: p50 and p99 of one search as the API runs it (a tenant transaction with row-level
 *    security), the query embedded by `simulator:embed`. Target: p99 ≤ 50 ms on PostgreSQL.
 *    The same searches through HTTP (GET /terminology/search), BENCH_HTTP_QUERIES of them (150).
 * 2. Time to the first streamed token of a 3-participant `multi` conversation on the simulator, through
 *    HTTP (POST /conversations/:id/messages with Accept: text/event-stream). Target ≤ 50 ms.
 *
 * Env: DATABASE_URL (admin URL, default postgres://postgres@127.0.0.1:5432/test), BENCH_BACKENDS
 * (default postgres,pglite), BENCH_TERMS (10000), BENCH_QUERIES (300), BENCH_MESSAGES (100), BENCH_KEEP=1
 * (keep the PostgreSQL database and print its URL, e.g. to EXPLAIN ANALYZE the search in psql), BENCH_DUMP=path
 * (write every search's results by term to path.<backend>.json, to check that a change keeps them the same),
 * BENCH_EXPLAIN=1 (print EXPLAIN ANALYZE of three of the searches).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { generateKey, parseKeyring, SecretBox } from '@aiops/core';
import { type Database, openDb, queryRows } from '@aiops/db';
import { simulatorEmbedding, warmTokenizer } from '@aiops/providers';
import { createPostgresDatabase, dropPostgresDatabase } from '@aiops/testing';
import { sql } from 'drizzle-orm';
import { buildApp } from '../apps/server/src/app.ts';
import {
  CANDIDATES,
  hybridSearch,
  SEMANTIC_MIN_SIMILARITY,
  searchStatement,
} from '../apps/server/src/modules/terminology/search.ts';
import { TermVectorCache } from '../apps/server/src/modules/terminology/vector-cache.ts';

const env = process.env;
const adminUrl = env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const backends = (env.BENCH_BACKENDS ?? 'postgres,pglite').split(',');
const TERMS = Number(env.BENCH_TERMS ?? 10_000);
const QUERIES = Number(env.BENCH_QUERIES ?? 300);
const MESSAGES = Number(env.BENCH_MESSAGES ?? 100);

const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
const ms = (n: number) => `${n.toFixed(2)} ms`;

/** A deterministic pseudo-random generator (mulberry32). */
function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const SYLLABLES = [
  'bri',
  'gam',
  'hev',
  'jus',
  'kor',
  'lim',
  'nat',
  'pex',
  'rul',
  'sto',
  'tyg',
  'umb',
  'vir',
  'wol',
  'xan',
  'yel',
  'zor',
  'fid',
  'gul',
  'hap',
  'ist',
  'jev',
  'kro',
  'lup',
  'ka',
  'lo',
  'mi',
  'ten',
  'ra',
  'vos',
  'pi',
  'dun',
  'sel',
  'or',
  'mex',
  'tra',
  'qui',
  'bal',
  'no',
  'zen',
];
const WORDS = [
  'system',
  'customer',
  'latency',
  'release',
  'invoice',
  'cluster',
  'agent',
  'model',
  'budget',
  'policy',
  'token',
  'queue',
  'schema',
  'metric',
  'tenant',
  'workflow',
  'cache',
  'replica',
  'ledger',
  'contract',
];

function corpus(n: number) {
  const r = rng(42);
  const pick = <T>(a: T[]) => a[Math.floor(r() * a.length)]!;
  const word = () => Array.from({ length: 2 + Math.floor(r() * 3) }, () => pick(SYLLABLES)).join('');
  const terms: { term: string; definition: string }[] = [];
  const seen = new Set<string>();
  while (terms.length < n) {
    const term = r() < 0.5 ? word() : `${word()} ${pick(WORDS)}`;
    if (seen.has(term)) continue;
    seen.add(term);
    terms.push({
      term,
      definition: `${Array.from({ length: 8 + Math.floor(r() * 10) }, () => (r() < 0.4 ? pick(WORDS) : word())).join(' ')}.`,
    });
  }
  return terms;
}

async function seedTerms(
  db: Database,
  organizationId: string,
  userId: string,
  terms: { term: string; definition: string }[],
) {
  const pgvector = db.embeddings.mode === 'pgvector';
  for (let i = 0; i < terms.length; i += 500) {
    const batch = terms.slice(i, i + 500);
    await db.withTenant({ organizationId, userId }, async (tx) => {
      const rows = await queryRows<{ id: string; term: string; definition: string }>(
        tx,
        sql`INSERT INTO terminology_entries (organization_id, user_id, term, definition, is_public)
            VALUES ${sql.join(
              batch.map(
                (t, j) =>
                  sql`(${organizationId}, ${userId}, ${t.term}, ${t.definition}, ${(i + j) % 10 !== 0})`,
              ),
              sql`, `,
            )}
            RETURNING id, term, definition`,
      );
      await tx.execute(
        sql`INSERT INTO embeddings (organization_id, namespace, ref_id, content, dimensions, embedding) VALUES ${sql.join(
          rows.map((r) => {
            const v = simulatorEmbedding(`${r.term}: ${r.definition}`).join(',');
            return sql`(${organizationId}, 'terminology', ${r.id}, ${`${r.term}: ${r.definition}`}, 256, ${pgvector ? sql`${`[${v}]`}::vector` : sql`${`{${v}}`}::real[]`})`;
          }),
          sql`, `,
        )}`,
      );
    });
  }
  await db
    .system((tx) => tx.execute(sql`ANALYZE terminology_entries; ANALYZE embeddings`).then(() => undefined))
    .catch(() =>
      db.system(async (tx) => {
        await tx.execute(sql`ANALYZE terminology_entries`);
        await tx.execute(sql`ANALYZE embeddings`);
      }),
    );
}

/** CPU time (ms) so far of the PostgreSQL backends serving this database (same machine: /proc), else 0. */
async function serverCpuMs(db: Database): Promise<number> {
  if (db.kind !== 'postgres') return 0;
  const pids = await db.system((tx) =>
    queryRows<{ pid: number }>(tx, sql`SELECT pid FROM pg_stat_activity WHERE datname = current_database()`),
  );
  let ticks = 0;
  for (const { pid } of pids) {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      ticks += Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15 of stat)
    } catch {
      // not on this machine, or gone
    }
  }
  return ticks * 10; // USER_HZ is 100 on Linux
}

async function signUp(url: string) {
  const res = await fetch(`${url}/api/v1/auth/signup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      email: `bench-${Date.now()}@example.test`,
      password: 'Bench-Correct-Horse-42!',
      name: 'Bench',
      organizationName: 'Bench Org',
    }),
  });
  const out = (await res.json()) as { token: string; user: { id: string }; organization: { id: string } };
  return { token: out.token, userId: out.user.id, organizationId: out.organization.id };
}

async function firstTokenMs(url: string, token: string, conversationId: string, i: number): Promise<number> {
  const started = performance.now();
  const res = await fetch(`${url}/api/v1/conversations/${conversationId}/messages`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      accept: 'text/event-stream',
    },
    body: JSON.stringify({ content: `Compare plan ${i} for the release` }),
  });
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  let first: number | undefined;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    if (first === undefined && buffer.includes('event: token')) first = performance.now() - started;
  }
  if (first === undefined) throw new Error(`no token event in: ${buffer.slice(0, 500)}`);
  return first;
}

async function bench(kind: string) {
  let db: Database;
  let cleanup = async () => {};
  if (kind === 'postgres') {
    const url = await createPostgresDatabase(adminUrl);
    db = await openDb({ kind: 'postgres', url, migrate: false });
    cleanup = env.BENCH_KEEP
      ? async () => console.log(`  kept database: ${url}`)
      : () => dropPostgresDatabase(adminUrl, url);
  } else db = await openDb({ kind: 'pglite', dataDir: 'memory' });
  const app = await buildApp({
    db,
    secrets: new SecretBox(parseKeyring(`bench:${generateKey()}`)),
    logLevel: 'warn',
    settings: {
      rateLimits: {
        tiers: Object.fromEntries(
          ['starter', 'professional', 'business', 'enterprise'].map((t) => [
            t,
            { userPerMinute: 1e9, orgPerMinute: 1e9 },
          ]),
        ) as never,
        anonymousPerMinute: 1e9,
      },
    },
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  try {
    const owner = await signUp(url);
    const terms = corpus(TERMS);
    const t0 = performance.now();
    await seedTerms(db, owner.organizationId, owner.userId, terms);
    console.log(
      `\n[${kind}] vectors: ${db.embeddings.mode}; ${TERMS} terms seeded in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );

    const r = rng(7);
    const queries = Array.from({ length: QUERIES }, (_, i) => {
      const t = terms[Math.floor(r() * terms.length)]!;
      if (i % 3 === 0) return t.term; // exact
      if (i % 3 === 1) return `${t.term.slice(0, -1)}x`; // misspelled
      return t.definition.split(' ').slice(0, 3).join(' '); // words of a definition
    });
    const scope = { organizationId: owner.organizationId, userId: owner.userId };
    const vectors = new TermVectorCache(); // as the API keeps one
    const times: number[] = [];
    // Where a search's time goes: embedding the query, the vector cache (its version check and scoring),
    // the search statement, and the rest (transaction set-up and commit, pool checkout).
    const parts = { embed: [] as number[], vectors: [] as number[], sql: [] as number[], tx: [] as number[] };
    let hits = 0;
    const dump: { q: string; found: Awaited<ReturnType<typeof hybridSearch>> }[] = [];
    let cpu: { node: NodeJS.CpuUsage; server: number } | undefined;
    for (const [i, q] of queries.entries()) {
      if (i === 20) cpu = { node: process.cpuUsage(), server: await serverCpuMs(db) };
      const started = performance.now();
      const embedding = env.BENCH_NO_SEMANTIC ? undefined : simulatorEmbedding(q);
      const embedded = performance.now();
      let vectorsMs = 0;
      let sqlMs = 0;
      const found = await db.withTenant(scope, async (tx) => {
        const t0 = performance.now();
        const near = embedding
          ? await vectors.nearest(tx, owner.organizationId, embedding, CANDIDATES, SEMANTIC_MIN_SIMILARITY)
          : undefined;
        const t1 = performance.now();
        const out = await hybridSearch(db.embeddings, tx, { text: q, embedding, limit: 20 }, near);
        sqlMs = performance.now() - t1;
        vectorsMs = t1 - t0;
        return out;
      });
      const total = performance.now() - started;
      if (i >= 20) {
        // the first 20 warm up
        times.push(total);
        parts.embed.push(embedded - started);
        parts.vectors.push(vectorsMs);
        parts.sql.push(sqlMs);
        parts.tx.push(total - (embedded - started) - vectorsMs - sqlMs);
      }
      hits += found.length ? 1 : 0;
      if (env.BENCH_DUMP) dump.push({ q, found });
    }
    if (env.BENCH_DUMP) {
      // The results by term (ids differ from run to run), to compare two versions of the search.
      const names = new Map(
        (
          await db.withTenant(scope, (tx) =>
            queryRows<{ id: string; term: string }>(tx, sql`SELECT id, term FROM terminology_entries`),
          )
        ).map((x) => [x.id, x.term]),
      );
      const out = dump.map(({ q, found }) => ({
        q,
        hits: found.map(({ id, ...h }) => ({ term: names.get(id), ...h })),
      }));
      writeFileSync(`${env.BENCH_DUMP}.${kind}.json`, `${JSON.stringify(out, null, 1)}\n`);
    }
    times.sort((a, b) => a - b);
    console.log(
      `  hybrid search, ${TERMS} terms: p50 ${ms(pct(times, 50))}  p99 ${ms(pct(times, 99))}  (${times.length} queries, ${hits}/${QUERIES} with results)`,
    );
    const parts50 = Object.entries(parts).map(([k, v]) => {
      v.sort((a, b) => a - b);
      return `${k} ${ms(pct(v, 50))}/${ms(pct(v, 99))}`;
    });
    console.log(`    breakdown p50/p99: ${parts50.join('  ')}`);
    // CPU time is less at the mercy of a crowded machine than wall-clock percentiles.
    const node = process.cpuUsage(cpu!.node);
    const server =
      kind === 'postgres'
        ? `, PostgreSQL backends ${ms(((await serverCpuMs(db)) - cpu!.server) / times.length)}`
        : '';
    console.log(
      `    CPU per search: this process ${ms((node.user + node.system) / 1000 / times.length)}${server}`,
    );

    if (env.BENCH_EXPLAIN) {
      // The plan of one search of each kind (exact term, misspelling, definition words), as run above.
      for (const q of queries.slice(20, 23)) {
        const embedding = simulatorEmbedding(q);
        const plan = await db.withTenant(scope, async (tx) => {
          const near = await vectors.nearest(
            tx,
            owner.organizationId,
            embedding,
            CANDIDATES,
            SEMANTIC_MIN_SIMILARITY,
          );
          const statement = searchStatement(db.embeddings, { text: q, embedding, limit: 20 }, near);
          return queryRows<Record<string, string>>(tx, sql`EXPLAIN (ANALYZE, BUFFERS) ${statement}`);
        });
        console.log(
          `  EXPLAIN ANALYZE, q = ${JSON.stringify(q)}:\n${plan.map((r) => `    ${Object.values(r)[0]}`).join('\n')}`,
        );
      }
    }

    // The same searches through the API (GET /terminology/search: authentication, the organization's
    // embedding model, the search, the hits' entries, JSON), fewer of them.
    const httpTimes: number[] = [];
    for (const [i, q] of queries.slice(0, Number(env.BENCH_HTTP_QUERIES ?? 150)).entries()) {
      const started = performance.now();
      const res = await fetch(`${url}/api/v1/terminology/search?q=${encodeURIComponent(q)}&limit=20`, {
        headers: { authorization: `Bearer ${owner.token}` },
      });
      if (res.status !== 200) throw new Error(`search answered ${res.status}: ${await res.text()}`);
      await res.json();
      if (i >= 20) httpTimes.push(performance.now() - started);
    }
    httpTimes.sort((a, b) => a - b);
    console.log(
      `  hybrid search through HTTP: p50 ${ms(pct(httpTimes, 50))}  p99 ${ms(pct(httpTimes, 99))}  (${httpTimes.length} requests)`,
    );

    const conv = await fetch(`${url}/api/v1/conversations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${owner.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        mode: 'multi',
        participants: [{ model: 'simulator:echo' }, { model: 'simulator:echo' }, { model: 'simulator:echo' }],
        settings: { historyTokens: 2000 },
      }),
    }).then((x) => x.json() as Promise<{ id: string }>);
    const ttft: number[] = [];
    for (let i = 0; i < MESSAGES; i++) {
      const t = await firstTokenMs(url, owner.token, conv.id, i);
      if (i >= 10) ttft.push(t);
    }
    ttft.sort((a, b) => a - b);
    console.log(
      `  first streamed token, 3-participant multi (simulator, HTTP): p50 ${ms(pct(ttft, 50))}  p99 ${ms(pct(ttft, 99))}  (${ttft.length} messages)`,
    );
  } finally {
    await app.close();
    await db.close();
    await cleanup();
  }
}

warmTokenizer();
for (const kind of backends) await bench(kind);
