/**
 * Scale-out under faults (issue 23, item 4): 2 `aiops start --role api` and 3 `--role worker` processes
 * on one private PostgreSQL 15 cluster (created here in a temp dir, on a free port; never the shared
 * server), a round-robin proxy in front of the API processes, a TCP proxy in front of PostgreSQL. Under a
 * steady load of runs started over HTTP: a worker and an API process are SIGKILLed (and restarted, as a
 * supervisor would), PostgreSQL restarts (`pg_ctl restart -m fast`) and its network is cut for 5 s.
 * `npm run bench:scaleout` runs the same scenario longer and prints the figures (README "Production").
 * PostgreSQL phase only: it needs separate processes on one PostgreSQL, which PGlite cannot be.
 */
import { describe, expect, it } from 'vitest';
import { cannotRun } from '../test/scaleout.ts';
import { runScenario } from '../test/scaleout-scenario.ts';

const why = process.env.DATABASE_URL
  ? cannotRun()
  : 'PostgreSQL phase only (DATABASE_URL unset): separate processes cannot share one PGlite';

// Printed so the skip's reason shows in the run's output, not only in a verbose reporter.
if (why) console.info(`scale-out fault test skipped: ${why}`);

describe('scale-out: 2 API and 3 worker processes on one PostgreSQL, under faults', () => {
  it.skipIf(why)(
    `loses and doubles no acknowledged run, answers 503 with Retry-After during outages, recovers alone${why ? ` (skipped: ${why})` : ''}`,
    async () => {
      const lines: string[] = [];
      const f = await runScenario({ everyMs: 100, calmMs: 1500, leaseMs: 3000, log: (l) => lines.push(l) });
      const context = `${lines.join('\n')}\n${JSON.stringify({ ...f, bad5xx: f.bad5xx.slice(0, 5) })}`;
      expect(f.acknowledged, context).toBeGreaterThan(20);
      expect(f.runs.lost, context).toEqual([]);
      expect(f.runs.notFinal, context).toEqual([]);
      expect(f.runs.doubled, context).toEqual([]);
      expect(f.runs.byStatus, context).toEqual({ completed: f.acknowledged });
      // Every 5xx during the outages is a 503 with Retry-After; none is a 500.
      expect(f.bad5xx, context).toEqual([]);
      expect(f.unavailable503, context).toBeGreaterThan(0); // the outages did reach the API
      expect(f.backAfterRestartMs, context).toBeLessThan(10_000);
      expect(f.backAfterCutMs, context).toBeLessThan(10_000);
      // No process needed a manual restart (only the two SIGKILLed ones were restarted, by the test).
      expect(f.died, context).toEqual([]);
      expect(f.notReady, context).toEqual([]);
      // Every process listens again (LISTEN/NOTIFY reconnected after the restart and the cut).
      expect(f.listeners, context).toBeGreaterThanOrEqual(f.processes);
    },
    180_000,
  );
});
