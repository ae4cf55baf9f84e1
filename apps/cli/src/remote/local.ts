import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '@aiops/config';
import { startServer } from '@aiops/server';
import { clientFor } from './connect.ts';
import { type RunOptions, runWorkflow } from './run.ts';
import { UsageError } from './workflow-file.ts';

/**
 * `aiops run <file> --local`: a throw-away server on an embedded PGlite database in a temporary directory
 * (no DATABASE_URL, no network port but loopback, no demo data), a local user, the file pushed and run
 * with the same progress as against a server; everything is deleted afterwards.
 */
export async function runLocal(target: string, options: RunOptions): Promise<void> {
  if (!/\.(ya?ml|json)$/i.test(target)) {
    throw new UsageError(`${target}: --local runs a workflow file (.yaml, .yml or .json)`);
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'aiops-local-'));
  const env: Record<string, string | undefined> = { ...process.env };
  for (const k of Object.keys(env)) {
    if (k === 'DATABASE_URL' || k === 'REDIS_URL' || k.startsWith('AIOPS_')) delete env[k];
  }
  const config = loadConfig(
    { ...env, AIOPS_DEMO: 'false', AIOPS_DATA_DIR: path.join(dir, 'data') },
    { port: 0, host: '127.0.0.1', logLevel: 'silent' },
  );
  if (!options.json)
    process.stderr.write(`aiops: starting a throw-away local server (embedded PGlite in ${dir})…\n`);
  const server = await startServer(config);
  try {
    const password = `Throwaway-${randomBytes(18).toString('hex')}-Aa1!`;
    const anonymous = clientFor({ url: server.url, token: '' });
    const signedUp = await anonymous.call(
      anonymous.api.POST('/api/v1/auth/signup', {
        body: {
          email: 'runner@example.com',
          password,
          name: 'Runner',
          organizationName: 'Local run',
        } as never,
      }),
    );
    const client = clientFor({ url: server.url, token: (signedUp as { token: string }).token });
    process.exitCode = await runWorkflow(client, target, options);
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
