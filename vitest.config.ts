import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['apps/**/*.test.ts', 'packages/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 90_000,
    hookTimeout: 120_000,
    reporters: ['default'],
    // oidc-provider (only the tests' local OpenID provider) warns on every Node release before 22 although
    // its 9.x line runs on Node 20; this one line is dropped, every other log is kept.
    onConsoleLog: (log) => !log.includes('oidc-provider WARNING: Unsupported runtime'),
  },
});
