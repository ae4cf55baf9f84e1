// Builds @aiops/sdk for plain Node (ESM, no TypeScript at run time) into dist/ (or the directory given):
// JavaScript and declarations by tsc, and a package.json whose exports point at them (publishable as is).
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const out = path.resolve(process.argv[2] ?? path.join(root, 'dist'));
rmSync(out, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json'), '--outDir', out], {
  stdio: 'inherit',
});
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
const built = {
  name: pkg.name,
  version: pkg.version,
  description: pkg.description,
  type: 'module',
  engines: { node: '>=20.19' },
  exports: { '.': { types: './index.d.ts', default: './index.js' } },
  dependencies: pkg.dependencies,
};
writeFileSync(path.join(out, 'package.json'), `${JSON.stringify(built, null, 2)}\n`);
process.stdout.write(`built ${pkg.name} into ${out}\n`);
