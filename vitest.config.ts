import { readdirSync } from 'node:fs';
import { defineConfig } from 'vitest/config';

/**
 * Tests of code that has no database (the studio's units, core, config, the SDK build): the same on either
 * backend, so a run on PostgreSQL (DATABASE_URL set) leaves them to the PGlite run.
 */
const WITHOUT_DATABASE = ['apps/web/src/**', 'packages/core/**', 'packages/config/**', 'packages/sdk/**'];

/**
 * CI runs the suite twice side by side, on PGlite and on PostgreSQL (.ci/run), and names the run in
 * AIOPS_TEST_RUN. The browser tests drive the studio, which talks to the same API on either backend (the
 * API's own tests run on both): CI shares them between its two runs by name, so each studio flow runs once
 * per CI. The PostgreSQL run takes two files in three: the PGlite run also has the tests without a database
 * and its browser tests are slower (the database shares the server's thread), and with an even split it
 * ended 7 minutes after the other (CI of 2026-12-05: 2,705 s against 2,277 s). Without AIOPS_TEST_RUN
 * (`npm test`), every browser test runs.
 */
function browserTestsOfOtherRun(): string[] {
  const run = process.env.AIOPS_TEST_RUN;
  if (run !== 'pglite' && run !== 'postgres') return [];
  const files = readdirSync('apps/web/e2e')
    .filter((f) => f.endsWith('.e2e.test.ts'))
    .sort();
  const onPglite = (i: number) => i % 3 === 0;
  return files
    .filter((_, i) => (run === 'pglite' ? !onPglite(i) : onPglite(i)))
    .map((f) => `apps/web/e2e/${f}`);
}

export default defineConfig({
  test: {
    include: ['apps/**/*.test.ts', 'packages/**/*.test.ts'],
    exclude: [
      '**/node_modules/**',
      '**/dist/**',
      ...(process.env.DATABASE_URL ? WITHOUT_DATABASE : []),
      ...browserTestsOfOtherRun(),
    ],
    pool: 'forks',
    maxWorkers: 2,
    // A worker process runs its files one after another with one module cache, instead of a new process
    // importing the server's whole module graph for every file: that import was ~3 s of a CPU-bound run
    // per file (CI keeps both cores busy). Measured on this machine, the PGlite and PostgreSQL runs side
    // by side as in .ci/run: 1,348 and 1,226 s isolated, 984 and 864 s shared; the server's tests alone
    // 354 → 191 s. Tests leave no global state behind (what one sets in process.env it deletes).
    isolate: false,
    testTimeout: 180_000,
    hookTimeout: 240_000,
    reporters: ['default'],
    // oidc-provider (only the tests' local OpenID provider) warns on every Node release before 22 although
    // its 9.x line runs on Node 20; this one line is dropped, every other log is kept.
    onConsoleLog: (log) => !log.includes('oidc-provider WARNING: Unsupported runtime'),
  },
});
