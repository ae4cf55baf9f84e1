import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { queryRows } from '@aiops/db';
import { testBackend } from '@aiops/testing';
import { sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { crashWorkflow, expectedOutput } from '../test/crash-workflow.ts';
import { type EngineHarness, engineHarness } from './test-support.ts';

/**
 * Crash safety: workers are SIGKILLed at random moments while runs execute. Every run must reach a final
 * state, no step may be completed twice, no output may be lost.
 */
const TSX = import.meta.resolve('tsx');
const TEST_DIR = path.resolve(import.meta.dirname, '../test');
const TRIALS = 50;
/** PGlite restarts take ~3 s each (WASM start, data directory load): fewer trials keep CI short. */
const PGLITE_TRIALS = 20;
/**
 * Most of either test's time is worker processes starting (tsx loading the engine) after each kill, which
 * takes several times longer on a slow or loaded CI machine: 190 s on a quiet 2-core machine, over 400 s
 * on a machine half as fast running both CI suites at once. The budget is for the slowest machine, not a
 * figure the test asserts.
 */
const BUDGET_MS = 900_000;
const children = new Set<ChildProcess>();
const rand = (lo: number, hi: number) => lo + Math.floor(Math.random() * (hi - lo));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function spawnChild(script: string, args: string[]) {
  const child = spawn(process.execPath, ['--import', TSX, path.join(TEST_DIR, script), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((r) =>
    child.on('exit', (code) => {
      children.delete(child);
      r(code);
    }),
  );
  const waitFor = async (text: string, ms = 120_000) => {
    const end = Date.now() + ms;
    while (!out.includes(text)) {
      if (child.exitCode !== null || Date.now() > end)
        throw new Error(`${script} did not print ${text}: ${out} ${err}`);
      await sleep(20);
    }
  };
  /** Waits until the child reports `n` steps completed in its life (`progress <n>`), or no run left. */
  const waitForProgress = async (n: number, ms = 120_000) => {
    const end = Date.now() + ms;
    const done = () => Math.max(0, ...[...out.matchAll(/progress (\d+)/g)].map((m) => Number(m[1])));
    while (done() < n && !out.includes('progress all')) {
      if (child.exitCode !== null || Date.now() > end)
        throw new Error(`${script} did not complete ${n} steps: ${out} ${err}`);
      await sleep(20);
    }
  };
  return { child, exited, waitFor, waitForProgress, out: () => out, err: () => err };
}

afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
});

describe.runIf(testBackend() === 'postgres')(
  'crash safety on PostgreSQL: several worker processes killed at random',
  () => {
    let h: EngineHarness;
    afterAll(() => h?.close());

    it(
      `${TRIALS} random SIGKILLs: every run finishes, no step completes twice, no output is lost`,
      async () => {
        h = await engineHarness({ workers: 0 });
        const wf = await h.createWorkflow(crashWorkflow(200));
        const runs: { id: string; i: number }[] = [];
        const addRuns = async (n: number) => {
          for (let k = 0; k < n; k++) {
            const i = runs.length;
            runs.push({ id: await h.start(wf, { i }), i });
          }
        };
        await addRuns(600);
        let seq = 0;
        const live: ReturnType<typeof spawnChild>[] = [];
        const ready = new Set<ReturnType<typeof spawnChild>>();
        const startWorker = () => {
          const c = spawnChild('worker-child.ts', [h.t.url!, `crash-${seq++}`]);
          live.push(c);
          return c.waitFor('ready').then(() => ready.add(c));
        };
        await Promise.all([startWorker(), startWorker(), startWorker(), startWorker()]);
        let killed = 0;
        for (let trial = 0; trial < TRIALS; trial++) {
          while (ready.size < 3) await sleep(20);
          await sleep(rand(50, 400));
          const candidates = [...ready];
          const victim = candidates[rand(0, candidates.length)]!;
          ready.delete(victim);
          live.splice(live.indexOf(victim), 1);
          victim.child.kill('SIGKILL');
          await victim.exited;
          killed++;
          void startWorker();
        }
        while (ready.size < live.length) await sleep(20);
        const deadline = Date.now() + 90_000;
        let open = runs.length;
        while (Date.now() < deadline) {
          const [row] = await h.db.system((tx) =>
            queryRows<{ n: number }>(
              tx,
              sql`SELECT count(*)::int AS n FROM workflow_executions WHERE status NOT IN ('completed', 'failed', 'cancelled', 'timeout')`,
            ),
          );
          open = row!.n;
          if (open === 0) break;
          await sleep(200);
        }
        for (const c of live) c.child.kill('SIGTERM');
        await Promise.all(live.map((c) => c.exited));

        expect(killed).toBe(TRIALS);
        expect(open).toBe(0);
        const rows = await h.db.system((tx) =>
          queryRows<{ id: string; status: string; output_data: unknown; i: string }>(
            tx,
            sql`SELECT id, status, output_data, input_data->>'i' AS i FROM workflow_executions`,
          ),
        );
        expect(rows).toHaveLength(runs.length);
        for (const r of rows) {
          expect(r.status).toBe('completed');
          expect(r.output_data).toEqual(expectedOutput(Number(r.i)));
        }
        const duplicates = await h.db.system((tx) =>
          queryRows(
            tx,
            sql`SELECT workflow_execution_id, node_id, count(*)::int FROM agent_executions WHERE status = 'completed' GROUP BY 1, 2 HAVING count(*) > 1`,
          ),
        );
        expect(duplicates).toEqual([]);
        const [completed] = await h.db.system((tx) =>
          queryRows<{ n: number }>(
            tx,
            sql`SELECT count(*)::int AS n FROM agent_executions WHERE status = 'completed'`,
          ),
        );
        expect(completed!.n).toBe(runs.length * 4);
        const [lost] = await h.db.system((tx) =>
          queryRows<{ n: number }>(
            tx,
            sql`SELECT count(*)::int AS n FROM agent_executions WHERE status_reason LIKE 'worker lost%'`,
          ),
        );
        // The kills landed in the middle of steps: leases were lost and their steps ran again elsewhere.
        expect(lost!.n).toBeGreaterThan(0);
        console.log(
          `crash test (postgres): ${runs.length} runs, ${killed} kills, ${lost!.n} steps taken over after their worker died`,
        );
      },
      BUDGET_MS,
    );
  },
);

describe.runIf(testBackend() === 'pglite')(
  'crash safety on PGlite: the process is killed at random and restarted',
  () => {
    it(
      `${PGLITE_TRIALS} random SIGKILLs of the whole process: every run finishes, no step completes twice, no output is lost`,
      async () => {
        const dir = mkdtempSync(path.join(tmpdir(), 'aiops-crash-'));
        const dataDir = path.join(dir, 'data');
        try {
          const seed = spawnChild('pglite-child.ts', [dataDir, 'seed', '200']);
          expect(await seed.exited).toBe(0);
          for (let trial = 0; trial < PGLITE_TRIALS; trial++) {
            const c = spawnChild('pglite-child.ts', [dataDir, 'work']);
            await c.waitFor('ready');
            // Killed at a random moment once this life has completed 16 steps (as many as its two workers
            // hold): on a slow machine a life could otherwise end before its claimed steps do, and the same
            // steps would lose their lease in every life until the engine gives them up (maxLostLeases),
            // which is the engine's guard against a step that kills its worker, not a lost output.
            await c.waitForProgress(16);
            await sleep(rand(20, 250));
            c.child.kill('SIGKILL');
            await c.exited;
          }
          const report = spawnChild('pglite-child.ts', [dataDir, 'report']);
          expect(await report.exited).toBe(0);
          const line = report
            .out()
            .split('\n')
            .find((l) => l.startsWith('REPORT '))!;
          const r = JSON.parse(line.slice('REPORT '.length)) as {
            runs: { i: string; status: string; output_data: unknown }[];
            duplicates: unknown[];
            lost: number;
            stepsNotCompleted: number;
          };
          expect(r.runs).toHaveLength(200);
          for (const run of r.runs) {
            expect(run.status).toBe('completed');
            expect(run.output_data).toEqual(expectedOutput(Number(run.i)));
          }
          expect(r.duplicates).toEqual([]);
          expect(r.stepsNotCompleted).toBe(0);
          console.log(
            `crash test (pglite): 200 runs, ${PGLITE_TRIALS} kills, ${r.lost} steps taken over after a kill`,
          );
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      },
      BUDGET_MS,
    );
  },
);
