/**
 * `npm run bench:knowledge` (issue 18), on PostgreSQL and PGlite:
 *
 * 1. Hybrid terminology search (full-text + trigram + semantic, one ranked statement) over a 10,000-term
 *    dictionary: p50 and p99 of one search as the API runs it (a tenant transaction with row-level
 *    security), the query embedded by `simulator:embed`. Target: p99 ≤ 50 ms on PostgreSQL.
 * 2. Time to the first streamed token of a 3-participant `multi` conversation on the simulator, through
 *    HTTP (POST /conversations/:id/messages with Accept: text/event-stream). Target ≤ 50 ms.
 *
 * Env: DATABASE_URL (admin URL, default postgres://postgres@127.0.0.1:5432/test), BENCH_BACKENDS
 * (default postgres,pglite), BENCH_TERMS (10000), BENCH_QUERIES (300), BENCH_MESSAGES (100).
 */
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
    cleanup = () => dropPostgresDatabase(adminUrl, url);
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
    let hits = 0;
    for (const [i, q] of queries.entries()) {
      const started = performance.now();
      const embedding = env.BENCH_NO_SEMANTIC ? undefined : simulatorEmbedding(q);
      const found = await db.withTenant(scope, async (tx) => {
        const near = embedding
          ? await vectors.nearest(tx, owner.organizationId, embedding, CANDIDATES, SEMANTIC_MIN_SIMILARITY)
          : undefined;
        return hybridSearch(db.embeddings, tx, { text: q, embedding, limit: 20 }, near);
      });
      if (i >= 20) times.push(performance.now() - started); // the first 20 warm up
      hits += found.length ? 1 : 0;
    }
    times.sort((a, b) => a - b);
    console.log(
      `  hybrid search, ${TERMS} terms: p50 ${ms(pct(times, 50))}  p99 ${ms(pct(times, 99))}  (${times.length} queries, ${hits}/${QUERIES} with results)`,
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
