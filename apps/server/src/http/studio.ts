import { existsSync } from 'node:fs';
import path from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { API_PREFIX } from './auth.ts';

/** The studio's build output (apps/web/dist), found by path: the server never imports the web app. */
export const DEFAULT_STUDIO_DIR = path.resolve(import.meta.dirname, '../../../web/dist');

/** Paths that belong to the server, never to the single-page app. */
const SERVER_PATHS = [`${API_PREFIX}/`, '/docs', '/openapi.json', '/healthz', '/readyz'];

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>AI Ops Studio</title>
<p>The studio is not built yet. Run <code>npm start</code> (it builds it) or <code>npm run build -w @aiops/web</code>,
then reload. The API is at <a href="/docs">/docs</a>.</p>`;

/**
 * Serves the studio at `/`: hashed assets with a long cache (and their .gz/.br siblings when the client
 * accepts them), every other non-API path answers index.html so the app's own router takes over.
 */
export async function registerStudio(app: FastifyInstance, dir: string): Promise<void> {
  const built = existsSync(path.join(dir, 'index.html'));
  if (built) {
    await app.register(fastifyStatic, {
      root: dir,
      prefix: '/',
      wildcard: false,
      preCompressed: true,
      index: false,
      setHeaders(reply, file) {
        const immutable = file.includes(`${path.sep}assets${path.sep}`);
        reply.header('cache-control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
      },
    });
  }
  app.get('/*', async (request, reply) => {
    const url = request.url.split('?')[0] ?? '/';
    if (SERVER_PATHS.some((p) => url === p || url.startsWith(p))) return reply.callNotFound();
    if (request.method !== 'GET') return reply.callNotFound();
    if (!built) return reply.type('text/html').send(NOT_BUILT);
    reply.header('cache-control', 'no-cache');
    return reply.sendFile('index.html');
  });
}
