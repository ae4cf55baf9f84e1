import { ConfigError, loadConfig } from '@aiops/config';
import { closeOnSignals, startServer } from '@aiops/server';

export interface StartOptions {
  port?: string;
  host?: string;
  dataDir?: string;
  role?: string;
}

/** `aiops start`: the API and studio on the embedded database (or DATABASE_URL), until a signal stops it. */
export async function start(options: StartOptions): Promise<void> {
  const config = loadConfig(undefined, {
    ...(options.port !== undefined ? { port: parsePort(options.port) } : {}),
    ...(options.host !== undefined ? { host: options.host } : {}),
    ...(options.dataDir !== undefined ? { dataDir: options.dataDir } : {}),
    ...(options.role !== undefined ? { role: parseRole(options.role) } : {}),
  });
  const where =
    config.database.kind === 'postgres'
      ? 'PostgreSQL (DATABASE_URL)'
      : `PGlite at ${config.database.dataDir}`;
  process.stderr.write(`aiops: starting (role ${config.role}) on ${where}\n`);
  const server = await startServer(config);
  closeOnSignals(server, config.shutdownTimeoutMs);
  process.stdout.write(`AI Ops Studio is ready at ${server.url}\n  API docs: ${server.url}/docs\n`);
  if (server.demo) {
    process.stdout.write(
      `\nDemo account (created now; the password is shown only this once):\n  email:    ${server.demo.email}\n  password: ${server.demo.password}\n` +
        `Try it:\n  curl -s -X POST ${server.url}/api/v1/auth/login -H 'content-type: application/json' \\\n` +
        `    -d '{"email":"${server.demo.email}","password":"${server.demo.password}"}'\n`,
    );
  }
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError(`--port ${value}: must be an integer from 0 to 65535`);
  }
  return port;
}

function parseRole(value: string): 'all' | 'api' | 'worker' {
  if (value === 'all' || value === 'api' || value === 'worker') return value;
  throw new ConfigError(`--role ${value}: must be all, api or worker`);
}
