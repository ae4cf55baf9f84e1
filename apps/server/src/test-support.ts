import { Writable } from 'node:stream';
import { generateKey, parseKeyring, SecretBox } from '@aiops/core';
import { createTestDatabase, type TestDatabase } from '@aiops/testing';
import type { FastifyInstance } from 'fastify';
import { type AppOptions, buildApp } from './app.ts';

/** A server on a fresh test database, listening on a free loopback port, with its log lines captured. */
export interface TestServer {
  app: FastifyInstance;
  database: TestDatabase;
  url: string;
  logs: string[];
  request(path: string, init?: RequestInit): Promise<Response>;
  close(): Promise<void>;
}

export async function startTestServer(
  options: Partial<AppOptions> & { beforeListen?: (app: FastifyInstance) => void | Promise<void> } = {},
): Promise<TestServer> {
  const database = await createTestDatabase();
  const logs: string[] = [];
  const logStream = new Writable({
    write(chunk, _enc, cb) {
      logs.push(...String(chunk).split('\n').filter(Boolean));
      cb();
    },
  });
  const secrets = new SecretBox(parseKeyring(`test:${generateKey()}`));
  const app = await buildApp({ logLevel: 'info', secrets, ...options, db: database.db, logStream });
  await options.beforeListen?.(app);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  return {
    app,
    database,
    url,
    logs,
    request: (path, init) => fetch(`${url}${path}`, init),
    async close() {
      await app.close();
      await database.destroy();
    },
  };
}
