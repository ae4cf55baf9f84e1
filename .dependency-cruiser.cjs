/**
 * Layer rules of ARCHITECTURE.md, checked by `npm run lint`.
 * Direction: contracts <- core <- (db, providers) <- engine <- apps. config is a leaf.
 * testing is dev-only: only test files may import it.
 */
const pkg = (name) => `^packages/${name}/`;
const deny = (name, from, allowed) => ({
  name,
  severity: 'error',
  comment: `${from} may import only: ${allowed.join(', ') || 'nothing inside the repo'}`,
  from: { path: pkg(from), pathNot: ['\\.test\\.ts$', 'test-support\\.ts$', '^packages/[^/]+/test/'] },
  to: { path: '^(packages|apps)/', pathNot: [pkg(from), ...allowed.map(pkg)] },
});

module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
    {
      name: 'no-deep-imports-across-packages',
      severity: 'error',
      comment: 'Import another package by its name (its package.json exports), never a file inside its src/',
      from: { path: '^(packages|apps)/([^/]+)/' },
      to: {
        path: '^(packages|apps)/',
        pathNot: [
          '^$1/$2/',
          '^packages/[^/]+/src/index\\.ts$',
          '^packages/[^/]+/src/testing\\.ts$',
          '^apps/[^/]+/src/index\\.ts$',
        ],
      },
    },
    {
      name: 'packages-never-import-apps',
      severity: 'error',
      from: { path: '^packages/' },
      to: { path: '^apps/' },
    },
    {
      name: 'testing-is-dev-only',
      severity: 'error',
      from: {
        path: '^(packages|apps)/',
        pathNot: [
          '\\.test\\.ts$',
          'test-support\\.ts$',
          '^packages/testing/',
          '^(apps|packages)/[^/]+/test/',
        ],
      },
      to: { path: pkg('testing') },
    },
    deny('contracts-is-a-leaf', 'contracts', []),
    deny('config-is-a-leaf', 'config', []),
    deny('core-imports-contracts-only', 'core', ['contracts']),
    deny('db-layer', 'db', ['core', 'contracts']),
    deny('providers-layer', 'providers', ['core', 'contracts']),
    deny('engine-layer', 'engine', ['db', 'providers', 'core', 'contracts']),
    deny('sdk-layer', 'sdk', ['contracts']),
    {
      name: 'server-never-imports-other-apps',
      severity: 'error',
      from: { path: '^apps/server/' },
      to: { path: '^apps/', pathNot: '^apps/server/' },
    },
    {
      name: 'web-talks-to-the-api-only',
      severity: 'error',
      from: { path: '^apps/web/', pathNot: '^apps/web/e2e/' },
      to: { path: '^(apps|packages)/', pathNot: ['^apps/web/', pkg('sdk'), pkg('contracts')] },
    },
    {
      name: 'web-e2e-drives-a-real-server',
      severity: 'error',
      comment:
        'the browser tests start the server as a process; they import only test fixtures and contracts',
      from: { path: '^apps/web/e2e/' },
      to: {
        path: '^(apps|packages)/',
        pathNot: ['^apps/web/e2e/', pkg('testing'), pkg('config'), pkg('contracts')],
      },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(dist|node_modules|drizzle)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    combinedDependencies: true,
    preserveSymlinks: false,
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types'],
      extensions: ['.ts', '.tsx', '.js', '.mjs', '.cjs', '.json'],
    },
  },
};
