import { existsSync } from 'node:fs';
import path from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { API_PREFIX } from './auth.ts';

/** The studio's build output (apps/web/dist), found by path: the server never imports the web app. */
export const DEFAULT_STUDIO_DIR = path.resolve(import.meta.dirname, '../../../web/dist');

/** Paths that belong to the server, never to the single-page app. */
const SERVER_PATHS = [`${API_PREFIX}/`, '/docs', '/openapi.json', '/healthz', '/readyz', '/assets/'];

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>AI Ops Studio</title>
<p>The studio is not built yet. Run <code>npm start</code> (it builds it) or <code>npm run build -w @aiops/web</code>,
then reload. The API is at <a href="/docs">/docs</a>.</p>`;

/**
 * Serves the studio at `/`: content-hashed files under /assets/ with a year's cache (their .br/.gz
 * siblings to clients that accept them), looked up per request so a rebuild needs no restart; every other
 * non-API GET answers index.html (never cached) so the app's own router takes over.
 */
export async function registerStudio(app: FastifyInstance, dir: string): Promise<void> {
  const assets = path.join(dir, 'assets');
  await app.register(fastifyStatic, {
    root: assets,
    prefix: '/assets/',
    preCompressed: true,
    index: false,
    cacheControl: false,
    setHeaders(reply, file) {
      const hashed = file.startsWith(assets + path.sep);
      reply.header('cache-control', hashed ? 'public, max-age=31536000, immutable' : 'no-cache');
    },
  });
  app.get('/*', async (request, reply) => {
    const url = request.url.split('?')[0] ?? '/';
    if (SERVER_PATHS.some((p) => url === p || url.startsWith(p))) return reply.callNotFound();
    if (!existsSync(path.join(dir, 'index.html'))) return reply.type('text/html').send(NOT_BUILT);
    return reply.sendFile('index.html', dir);
  });
}
