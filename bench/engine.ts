/**
 * `npm run bench:engine`: the workflow engine's figures on PostgreSQL and on PGlite, simulator at 0 ms.
 *  1. one-step and three-step workflows started through `POST /api/v1/workflows/:id/runs`, sync (`wait`,
 *     answered with the result) and async (202), at 10 and 50 connections (autocannon, separate server
 *     process): 2xx answers/s, latency, errors, and runs counted in the database;
 *  2. step-to-step overhead p50/p99 for runs of 10, 100 and 1,000 sequential steps;
 *  3. (PostgreSQL) no-op job throughput of our queue beside graphile-worker and pg-boss on the same server.
 * Ends with the side-by-side table. Env: DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test),
 * BENCH_BACKENDS (postgres,pglite), BENCH_PARTS (runs,steps,queues), BENCH_SECONDS (30) and BENCH_WARMUP (5)
 * per cell, BENCH_CONNECTIONS (10,50), BENCH_STEPS (1,3), BENCH_MODES (sync,async), BENCH_JOBS (20000),
 * BENCH_PRICED=1 (the simulator priced by an organization override, so every step adds to the monthly
 * spend); BENCH_AUTOVACUUM=off (the PGlite server without its own autovacuum, to compare); BENCH_OUTBOX=1
 * (the server also runs the trigger and outbox loops of `aiops start`); BENCH_QUICK=1 for development (5 s
 * cells, 1 s warm-up, 3,000 jobs, fewer long chains).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createPostgresDatabase, dropPostgresDatabase } from '@aiops/testing';
import {
  type BenchServer,
  type CellResult,
  cell,
  createChain,
  type OverheadRow,
  startServer,
  stepOverhead,
} from './engine-http.ts';
import { queueBenchmarks } from './engine-queues.ts';

const env = process.env;
const quick = env.BENCH_QUICK === '1';
const adminUrl = env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const backends = (env.BENCH_BACKENDS ?? 'postgres,pglite').split(',');
const parts = (env.BENCH_PARTS ?? 'runs,steps,queues').split(',');
const SECONDS = Number(env.BENCH_SECONDS ?? (quick ? 5 : 30));
const WARMUP = Number(env.BENCH_WARMUP ?? (quick ? 1 : 5));
const CONNECTIONS = (env.BENCH_CONNECTIONS ?? '10,50').split(',').map(Number);
const STEPS = (env.BENCH_STEPS ?? '1,3').split(',').map(Number);
const MODES = (env.BENCH_MODES ?? 'sync,async').split(',');
const JOBS = Number(env.BENCH_JOBS ?? (quick ? 3000 : 20_000));
const CHAINS: [number, number][] = quick
  ? [
      [10, 5],
      [1000, 1],
    ]
  : [
      [10, 20],
      [100, 3],
      [1000, 2],
    ];

const f = (n: number | undefined, digits = 0) =>
  n === undefined || !Number.isFinite(n) ? '–' : n.toFixed(digits);
const cellKey = (steps: number, sync: boolean, connections: number) =>
  `${steps} step${steps > 1 ? 's' : ''}, ${sync ? 'sync' : 'async (202)'}, ${connections} conn`;

const cells = new Map<string, Map<string, CellResult>>();
const overhead = new Map<string, OverheadRow[]>();

async function benchBackend(kind: string) {
  let target: string;
  let cleanup: () => Promise<void>;
  if (kind === 'postgres') {
    target = await createPostgresDatabase(adminUrl);
    cleanup = () => dropPostgresDatabase(adminUrl, target);
  } else {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'aiops-bench-'));
    target = path.join(dir, 'data');
    cleanup = async () => rmSync(dir, { recursive: true, force: true });
  }
  console.log(`\n[${kind}] (server: API and worker in one process)`);
  let s: BenchServer | undefined;
  try {
    s = await startServer(kind, target);
    if (parts.includes('runs')) {
      for (const steps of STEPS)
        for (const sync of MODES.map((m) => m === 'sync'))
          for (const connections of CONNECTIONS) {
            const wf = await createChain(s, `load-${steps}-${sync}-${connections}`, steps);
            const r = await cell(s, wf, { sync, connections, seconds: SECONDS, warmup: WARMUP });
            const key = cellKey(steps, sync, connections);
            cells.set(key, (cells.get(key) ?? new Map()).set(kind, r));
            console.log(
              `  ${key}: ${f(r.rps)} 2xx/s, p50 ${r.p50} ms, p99 ${r.p99} ms, max ${r.max} ms; ` +
                `${r.ok} 2xx, ${r.errors} errors (${r.timeouts} timeouts) ${r.errors ? r.statuses : ''}; ` +
                `runs in db ${r.runs}, completed ${r.completed}` +
                (sync ? '' : `, executed ${f(r.executed)}/s`) +
                `; CPU per run: server ${f(r.cpuServer, 2)} ms` +
                (r.cpuDb !== undefined ? `, database ${f(r.cpuDb, 2)} ms` : ''),
            );
          }
    }
    if (parts.includes('steps')) {
      const rows = await stepOverhead(s, CHAINS);
      overhead.set(kind, rows);
      console.log('  step-to-step overhead (next step start − previous step end), sequential runs:');
      for (const r of rows)
        console.log(
          `  ${r.steps} steps × ${r.runs} runs: p50 ${f(r.p50, 1)} ms, p99 ${f(r.p99, 1)} ms; created → first step p50 ${f(r.startP50, 1)} ms`,
        );
    }
  } finally {
    await s?.stop();
    await cleanup();
  }
}

console.log(
  `bench:engine on ${os.cpus().length} cores, load average ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}; ${SECONDS} s per cell after ${WARMUP} s warm-up${quick ? ' (BENCH_QUICK)' : ''}`,
);
if (parts.includes('runs') || parts.includes('steps')) for (const kind of backends) await benchBackend(kind);
const queue =
  parts.includes('queues') && backends.includes('postgres') ? await queueBenchmarks(adminUrl, JOBS) : [];

console.log('\nSide by side (2xx/s; p50/p99 ms; errors; runs in db / completed; async: executed/s):');
console.log(`| | ${backends.join(' | ')} |`);
console.log(`|---|${backends.map(() => '---').join('|')}|`);
for (const [key, byKind] of cells) {
  const cols = backends.map((k) => {
    const r = byKind.get(k);
    if (!r) return '';
    const exec = key.includes('async') ? `, exec ${f(r.executed)}/s` : '';
    return `${f(r.rps)} req/s, ${r.p50}/${r.p99} ms, ${r.errors} err, ${r.runs}/${r.completed} runs${exec}`;
  });
  console.log(`| ${key} | ${cols.join(' | ')} |`);
}
for (const steps of CHAINS.map(([n]) => n)) {
  const cols = backends.map((k) => {
    const r = overhead.get(k)?.find((o) => o.steps === steps);
    return r ? `p50 ${f(r.p50, 1)} ms, p99 ${f(r.p99, 1)} ms` : '';
  });
  console.log(`| step-to-step, ${steps} steps | ${cols.join(' | ')} |`);
}
for (const [name, rate] of queue) console.log(`| queue: ${name} | ${f(rate)} jobs/s |`);
if (queue.length === 3)
  console.log(`| our queue / graphile-worker | ${f((queue[0]![1] / queue[1]![1]) * 100)}% |`);
