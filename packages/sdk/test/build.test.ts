import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The built package as a user installs it: built by its build script, in a node_modules of its own with
 * its dependencies, imported by plain Node (no TypeScript loader) and type-checked by a consumer.
 */
const sdkDir = path.resolve(import.meta.dirname, '..');
const repoModules = path.resolve(sdkDir, '../../node_modules');
let dir: string;
let server: Server;
let url: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'aiops-sdk-build-'));
  const pkgDir = path.join(dir, 'node_modules', '@aiops', 'sdk');
  mkdirSync(path.dirname(pkgDir), { recursive: true });
  execFileSync(process.execPath, [path.join(sdkDir, 'scripts', 'build.mjs'), pkgDir], { stdio: 'pipe' });
  for (const dep of [
    'openapi-fetch',
    'openapi-typescript-helpers',
    'eventsource-parser',
    '@types',
    'undici-types',
  ]) {
    symlinkSync(path.join(repoModules, dep), path.join(dir, 'node_modules', dep));
  }
  // A server answering like the API: a page of workflows, then an error body.
  server = createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    if (req.url?.startsWith('/api/v1/workflows')) {
      res.end(JSON.stringify({ data: [{ id: 'w1', name: req.headers.authorization }], nextCursor: null }));
    } else {
      res.statusCode = 404;
      res.end(JSON.stringify({ error: { code: 'not_found', message: 'Run not found', requestId: 'req-1' } }));
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}, 600_000);
afterAll(() => {
  server?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('@aiops/sdk built for plain Node ESM', () => {
  it('has a package.json whose exports point at the built files', () => {
    const pkg = JSON.parse(readFileSync(path.join(dir, 'node_modules/@aiops/sdk/package.json'), 'utf8'));
    expect(pkg.type).toBe('module');
    expect(pkg.exports).toEqual({ '.': { types: './index.d.ts', default: './index.js' } });
    expect(Object.keys(pkg.dependencies).sort()).toEqual(['eventsource-parser', 'openapi-fetch']);
  });

  it('imports in plain node and talks to a server: pages and typed errors', async () => {
    writeFileSync(
      path.join(dir, 'main.mjs'),
      `import { AiopsClient, AiopsNotFoundError } from '@aiops/sdk';
const client = new AiopsClient({ baseUrl: process.argv[2], token: 'aio_test' });
const names = [];
for await (const w of client.paginate('/api/v1/workflows')) names.push(w.name);
const err = await client.getRun('00000000-0000-4000-8000-000000000000').catch((e) => e);
console.log(JSON.stringify({ names, notFound: err instanceof AiopsNotFoundError, code: err.code, requestId: err.requestId, status: err.status }));
`,
    );
    // Asynchronously: the server answering it runs in this process.
    const { stdout: out } = await promisify(execFile)(process.execPath, ['main.mjs', url], { cwd: dir });
    expect(JSON.parse(out)).toEqual({
      names: ['Bearer aio_test'],
      notFound: true,
      code: 'not_found',
      requestId: 'req-1',
      status: 404,
    });
  });

  it('type-checks a consumer against the built declarations (a wrong path is an error)', () => {
    writeFileSync(
      path.join(dir, 'consumer.ts'),
      `import { AiopsClient, type RunDetail } from '@aiops/sdk';
const client = new AiopsClient({ baseUrl: 'http://127.0.0.1:3000' });
export async function status(id: string): Promise<RunDetail['status']> {
  const { data } = await client.api.GET('/api/v1/runs/{id}', { params: { path: { id } } });
  return data!.status;
}
// @ts-expect-error: not a path of the API
client.api.GET('/api/v1/no-such-path');
`,
    );
    writeFileSync(
      path.join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2023',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          noEmit: true,
          types: ['node'],
        },
        files: ['consumer.ts'],
      }),
    );
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    const out = execFileSync(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: dir, encoding: 'utf8' });
    expect(out).toBe('');
  }, 600_000);
});
