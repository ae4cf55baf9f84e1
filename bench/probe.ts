/** Diagnostic driver: starts bench/probe-server.ts on a fresh PGlite dir, signs up, runs probe-client. */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const TSX = import.meta.resolve('tsx');
const dir = mkdtempSync(path.join(os.tmpdir(), 'aiops-probe-'));
const out = path.join(dir, 'probe.json');
const child = spawn(
  process.execPath,
  ['--import', TSX, path.join(import.meta.dirname, 'probe-server.ts'), path.join(dir, 'data')],
  {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, LOG_LEVEL: 'warn', PROBE_OUT: out },
  },
);
let text = '';
child.stdout!.on('data', (d) => (text += d));
const exited = new Promise((r) => child.once('exit', r));
while (!/READY (\S+)/.test(text)) await new Promise((r) => setTimeout(r, 100));
const url = /READY (\S+)/.exec(text)![1]!;
const call = async (key: string | undefined, method: string, p: string, body?: unknown) => {
  const res = await fetch(`${url}/api/v1${p}`, {
    method,
    headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body: JSON.stringify(body),
  });
  const t = await res.text();
  if (!res.ok) throw new Error(`${p} ${res.status} ${t}`);
  return JSON.parse(t);
};
const su = await call(undefined, 'POST', '/auth/signup', {
  email: `p-${Date.now()}@example.test`,
  password: 'Bench-Passw0rd-2026!',
  name: 'P',
  organizationName: 'P',
});
await call(su.token, 'PATCH', '/organization', { subscriptionTier: 'enterprise' });
const { key } = await call(su.token, 'POST', '/api-keys', {
  name: 'b',
  scopes: ['workflow:create', 'workflow:read', 'workflow:execute', 'run:read'],
  rateLimit: 100_000,
});
const steps = Number(process.env.PROBE_STEPS ?? 1);
const wf = await call(key, 'POST', '/workflows', {
  status: 'active',
  definition: {
    name: 'p',
    nodes: Array.from({ length: steps }, (_, i) => ({
      id: `s${i}`,
      type: 'agent',
      agent: { model: 'simulator:echo', prompt: 'x' },
    })),
    connections: Array.from({ length: steps - 1 }, (_, i) => ({ from: `s${i}`, to: `s${i + 1}` })),
  },
});
const args = [
  url,
  key,
  wf.id,
  process.env.PROBE_MODE ?? 'sync',
  process.env.PROBE_CONNS ?? '50',
  process.env.PROBE_SECONDS ?? '10',
];
spawnSync(process.execPath, ['--import', TSX, path.join(import.meta.dirname, 'probe-client.ts'), ...args], {
  stdio: 'inherit',
});
child.kill('SIGTERM');
await exited;
console.log(readFileSync(out, 'utf8'));
rmSync(dir, { recursive: true, force: true });
