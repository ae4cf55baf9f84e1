import helmet from '@fastify/helmet';
import type { FastifyInstance } from 'fastify';
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
 * Security headers with @fastify/helmet on every answer: the CSP above, X-Frame-Options: DENY,
 * X-Content-Type-Options: nosniff, Referrer-Policy: no-referrer, HSTS (honoured over HTTPS only), and
 * the cross-origin opener/resource policies. API answers are never stored by a browser or proxy
 * (`Cache-Control: no-store`): they carry tokens, keys, recovery codes and tenants' data.
 */
export async function registerSecurityHeaders(app: FastifyInstance): Promise<void> {
  await app.register(helmet, {
    global: true,
    // No upgrade-insecure-requests: the server is also reached over plain HTTP on a local network.
    contentSecurityPolicy: { useDefaults: false, directives: CONTENT_SECURITY_POLICY },
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
  });
  app.addHook('onSend', async (request, reply) => {
    if (request.url.startsWith(`${API_PREFIX}/`) && !reply.hasHeader('cache-control')) {
      reply.header('cache-control', 'no-store');
    }
  });
}
