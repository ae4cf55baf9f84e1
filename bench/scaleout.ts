/**
 * `npm run bench:scaleout`: the scale-out fault scenario (apps/cli/test/scaleout-scenario.ts) with its
 * figures printed: 2 API and 3 worker processes on a private PostgreSQL 15 cluster, steady load, a worker
 * and an API process SIGKILLed, `pg_ctl restart -m fast`, the network to PostgreSQL cut for 5 s.
 * Needs root (initdb runs as the postgres OS user) and /usr/lib/postgresql/15/bin (AIOPS_PG_BIN).
 * Env: SCALEOUT_EVERY_MS (100: a run started every 100 ms), SCALEOUT_CALM_MS (5000 between faults),
 * SCALEOUT_LEASE_MS (5000), SCALEOUT_STEP_MS (300: how long each of a run's two steps takes), SCALEOUT_APIS (2), SCALEOUT_WORKERS (3).
 */
import { cannotRun } from '../apps/cli/test/scaleout.ts';
import { runScenario } from '../apps/cli/test/scaleout-scenario.ts';

const env = process.env;
const why = cannotRun();
if (why) {
  console.error(`bench:scaleout cannot run here: ${why}`);
  process.exit(1);
}
const f = await runScenario({
  apis: Number(env.SCALEOUT_APIS ?? 2),
  workers: Number(env.SCALEOUT_WORKERS ?? 3),
  everyMs: Number(env.SCALEOUT_EVERY_MS ?? 100),
  calmMs: Number(env.SCALEOUT_CALM_MS ?? 5000),
  leaseMs: Number(env.SCALEOUT_LEASE_MS ?? 5000),
  stepMs: Number(env.SCALEOUT_STEP_MS ?? 300),
  log: (line) => console.log(`  ${line}`),
});
const rows: [string, string][] = [
  ['requests (POST /workflows/:id/runs)', String(f.requests)],
  [
    'answers by status',
    Object.entries(f.byStatus)
      .map(([s, n]) => `${s === '0' ? 'connection error' : s}: ${n}`)
      .join(', '),
  ],
  ['acknowledged (2xx)', String(f.acknowledged)],
  ['acknowledged runs lost', String(f.runs.lost.length)],
  ['acknowledged runs not final', String(f.runs.notFinal.length)],
  ['runs or steps doubled', String(f.runs.doubled.length)],
  [
    'final states',
    Object.entries(f.runs.byStatus)
      .map(([s, n]) => `${s}: ${n}`)
      .join(', '),
  ],
  ['step attempts retried (lost lease, cut connection)', String(f.runs.failedAttempts)],
  ['503 with Retry-After', String(f.unavailable503)],
  ['500s, or 503 without Retry-After', String(f.bad5xx.length)],
  ['back after pg_ctl restart (ms)', String(f.backAfterRestartMs)],
  ['back after the 5 s network cut (ms)', String(f.backAfterCutMs)],
  ['drain after the load (ms)', String(f.drainMs)],
  ['processes that died on their own', f.died.join(', ') || 'none'],
  ['processes not ready at the end', f.notReady.join(', ') || 'none'],
  ['LISTEN connections at the end / processes', `${f.listeners} / ${f.processes}`],
  ['total (ms)', String(f.totalMs)],
];
console.log('\n| figure | value |\n| --- | --- |');
for (const [k, v] of rows) console.log(`| ${k} | ${v} |`);
if (f.bad5xx.length) console.log('\nbad answers:', JSON.stringify(f.bad5xx.slice(0, 10)));
const ok =
  f.runs.lost.length +
    f.runs.notFinal.length +
    f.runs.doubled.length +
    f.bad5xx.length +
    f.died.length +
    f.notReady.length ===
    0 &&
  f.backAfterRestartMs <= 10_000 &&
  f.backAfterCutMs <= 10_000 &&
  f.listeners >= f.processes;
process.exit(ok ? 0 : 1);
