// Builds the studio (apps/web/dist) when it is missing or older than its sources.
// Run by `npm start` (prestart) and by the e2e test, so `npm ci && npm start` serves a current studio.
import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';

const web = path.resolve(import.meta.dirname, '..');
const sources = [
  path.join(web, 'src'),
  path.join(web, 'index.html'),
  path.join(web, 'vite.config.ts'),
  path.join(web, 'package.json'),
  import.meta.filename,
  path.resolve(web, '../../packages/contracts/src'),
  path.resolve(web, '../../packages/sdk/src'),
];

function newest(p) {
  const s = statSync(p, { throwIfNoEntry: false });
  if (!s) return 0;
  if (!s.isDirectory()) return s.mtimeMs;
  return Math.max(0, ...readdirSync(p).map((f) => newest(path.join(p, f))));
}

const fresh = () => {
  const builtAt = newest(path.join(web, 'dist', 'index.html'));
  return { builtAt, ok: builtAt > 0 && builtAt >= Math.max(...sources.map(newest)) };
};
if (fresh().ok && !process.argv.includes('--force')) process.exit(0);

// One build at a time: the browser test files run in parallel and each calls this script. The others wait
// for the lock (a directory: creating it is atomic), then find the studio built. A lock older than five
// minutes is a crashed build's and is taken over.
const lock = path.join(web, 'dist.lock');
const deadline = Date.now() + 300_000;
for (;;) {
  try {
    mkdirSync(lock);
    break;
  } catch (e) {
    if (e.code !== 'EEXIST') throw e;
    const age = Date.now() - (statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
    if (age > 300_000 || Date.now() > deadline) rmSync(lock, { recursive: true, force: true });
    else await new Promise((r) => setTimeout(r, 250));
  }
}
try {
  const { builtAt, ok } = fresh();
  if (!ok || process.argv.includes('--force')) {
    process.stderr.write(`aiops: building the studio (${builtAt ? 'sources changed' : 'first start'})…\n`);
    const started = Date.now();
    // A production build whatever the caller's NODE_ENV (Vitest sets it to test, which would bundle
    // React's development build).
    process.env.NODE_ENV = 'production';
    const { build } = await import('vite');
    await build({ configFile: path.join(web, 'vite.config.ts'), mode: 'production', logLevel: 'warn' });
    process.stderr.write(`aiops: studio built in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  }
} finally {
  rmSync(lock, { recursive: true, force: true });
}
