import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import helmet from 'helmet';
import { API_PREFIX } from './auth.ts';

/**
 * The Content-Security-Policy of every answer (studio, /docs, API). The studio and Swagger UI load their
 * scripts and styles from this origin only (no inline script: Vite's build and @fastify/swagger-ui emit
 * none); styles may be inline (both set element styles, Swagger UI injects some); images may be data:
 * URIs (the MFA QR code, Swagger UI's icons); the pages call only this origin. No framing anywhere.
 */
export const CONTENT_SECURITY_POLICY = {
  'default-src': ["'self'"],
  'base-uri': ["'self'"],
  'connect-src': ["'self'"],
  'font-src': ["'self'", 'data:'],
  'form-action': ["'self'"],
  'frame-ancestors': ["'none'"],
  'img-src': ["'self'", 'data:', 'blob:'],
  'object-src': ["'none'"],
  'script-src': ["'self'"],
  'script-src-attr': ["'none'"],
  'style-src': ["'self'", "'unsafe-inline'"],
  'worker-src': ["'self'", 'blob:'],
};

/**
 * Security headers from helmet on every answer: the CSP above, X-Frame-Options: DENY,
 * X-Content-Type-Options: nosniff, Referrer-Policy: no-referrer, HSTS (honoured over HTTPS only), and
 * the cross-origin opener/resource policies. API answers are never stored by a browser or proxy
 * (`Cache-Control: no-store`): they carry tokens, keys, recovery codes and tenants' data.
 *
 * The headers are the same for every answer, so helmet computes them once at start-up and each request
 * only sets them (@fastify/helmet ran helmet's middleware per request, parsing the CSP directives each
 * time: about 6% of the server's CPU per API call in a profile of `bench:engine`).
 */
export async function registerSecurityHeaders(app: FastifyInstance): Promise<void> {
  const headers = Object.entries(securityHeaders());
  // On the raw response, as @fastify/helmet did: streamed (hijacked) answers carry them too.
  app.addHook('onRequest', (_request, reply, done) => {
    for (const [name, value] of headers) if (value !== undefined) reply.raw.setHeader(name, value);
    done();
  });
  app.addHook('onSend', async (request, reply) => {
    if (request.url.startsWith(`${API_PREFIX}/`) && !reply.hasHeader('cache-control')) {
      reply.header('cache-control', 'no-store');
    }
  });
}

/** The headers helmet's middleware sets, captured from one call on a stand-in response. */
export function securityHeaders(): OutgoingHttpHeaders {
  const middleware = helmet({
    // No upgrade-insecure-requests: the server is also reached over plain HTTP on a local network.
    contentSecurityPolicy: { useDefaults: false, directives: CONTENT_SECURITY_POLICY },
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
  });
  const headers: OutgoingHttpHeaders = {};
  const response = {
    setHeader(name: string, value: string | number | string[]) {
      headers[name.toLowerCase()] = value;
      return response;
    },
    // X-Powered-By: never set by Fastify, nothing to remove.
    removeHeader() {},
  };
  middleware({} as IncomingMessage, response as unknown as ServerResponse, (err?: unknown) => {
    if (err) throw err;
  });
  return headers;
}
