import type { Permission, Role } from '@aiops/contracts';
import { AppError, forbidden, unauthorized } from '@aiops/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { readSessionCookie } from './cookies.ts';
import type { RateLimitSubject, RateLimits } from './rate-limit.ts';

/** What a route requires: a permission, any signed-in caller, or nothing. */
export type RoutePermission = Permission | 'public' | 'authenticated';

/** Who is calling, in which organization, allowed to do what. Null on public routes without credentials. */
export interface AuthContext {
  organizationId: string;
  userId: string | null;
  apiKeyId: string | null;
  sessionId: string | null;
  role: Role | null;
  permissions: ReadonlySet<Permission>;
  organizationStatus: 'active' | 'suspended' | 'cancelled';
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Required on every route under /api/v1: the app refuses to build without it. */
    permission?: RoutePermission;
    /**
     * false: a public route whose callers are not limited per client address (webhook URLs: senders such as
     * GitHub share a few addresses; their runs still count against the monthly quota and trigger limits).
     */
    anonymousRateLimit?: boolean;
  }
  interface FastifyRequest {
    auth: AuthContext | null;
  }
}

/** A verified credential: the caller's context and what their requests count against. */
export interface Authenticated {
  auth: AuthContext;
  limits: RateLimitSubject;
  /** When the credential stops being valid by itself (an API key's expiry). */
  expiresAt?: Date | null;
}

/** Turns a bearer token or API key into a caller, or null when it is invalid, expired or revoked. */
export type Authenticator = (credential: string) => Promise<Authenticated | null>;

export const API_PREFIX = '/api/v1';
const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
/** What a suspended or cancelled organization may still change: its billing and status, and its sessions. */
// An organization export is a read (POST only for its body): a suspended organization may take its data away.
const ALLOWED_WHEN_SUSPENDED = new Set<RoutePermission>([
  'billing:manage',
  'authenticated',
  'public',
  'organization:export',
]);

/** The credential of a request: `Authorization: Bearer …`, else the studio's session cookie. */
export function credentialOf(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (typeof header === 'string') {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    return m?.[1] ?? '';
  }
  return readSessionCookie(request);
}

/**
 * Authentication and authorization for every route under /api/v1. A route without `config.permission`
 * makes the app fail to build. Each request is authenticated (bearer token, API key or session cookie),
 * checked against the route's permission (401/403 with the uniform error body) and counted against its
 * rate limits, before its body is even read.
 */
export function registerAuth(
  app: FastifyInstance,
  options: { authenticate: Authenticator; rateLimits: RateLimits },
): void {
  app.decorateRequest('auth', null);
  app.addHook('onRoute', (route) => {
    if (!route.url.startsWith(API_PREFIX)) return;
    const permission = (route.config as { permission?: unknown } | undefined)?.permission;
    if (typeof permission === 'string' && route.schema) {
      // The OpenAPI document says how each route is authorized.
      const schema = route.schema as { security?: unknown; description?: string };
      if (permission !== 'public') schema.security = [{ bearer: [] }];
      const needs =
        permission === 'public'
          ? 'No authentication needed.'
          : permission === 'authenticated'
            ? 'Any signed-in caller.'
            : `Requires the permission \`${permission}\`.`;
      schema.description = schema.description ? `${schema.description}\n\n${needs}` : needs;
    }
    if (typeof permission !== 'string') {
      throw new Error(
        `Route ${String(route.method)} ${route.url} declares no config.permission: every route under ${API_PREFIX} must say which permission it needs ('public', 'authenticated' or a permission string)`,
      );
    }
  });
  app.addHook('onRequest', async (request, reply) => {
    const permission = request.routeOptions.config?.permission;
    if (permission === undefined) return;
    const credential = credentialOf(request);
    let found: Authenticated | null = null;
    if (credential) found = await options.authenticate(credential);
    if (permission === 'public') {
      request.auth = found?.auth ?? null;
      if (found) await options.rateLimits.consume(found.limits, reply);
      else if (request.routeOptions.config?.anonymousRateLimit !== false)
        await options.rateLimits.consumeAnonymous(request.ip, reply);
      return;
    }
    if (!found) {
      throw credential === undefined
        ? unauthorized()
        : unauthorized(
            'The token or API key is invalid, expired or revoked: sign in again (POST /api/v1/auth/login) or use a valid key',
          );
    }
    request.auth = found.auth;
    // Counted before authorization: refused requests spend the caller's budget too.
    await options.rateLimits.consume(found.limits, reply);
    authorize(request, permission, found.auth);
  });
}

function authorize(request: FastifyRequest, permission: RoutePermission, auth: AuthContext): void {
  if (permission !== 'authenticated' && !auth.permissions.has(permission as Permission)) {
    throw forbidden(
      `This needs the permission "${permission}", which ${auth.apiKeyId ? 'this API key' : `your role (${auth.role})`} does not grant: ask an owner or admin`,
      { permission },
    );
  }
  if (
    auth.organizationStatus !== 'active' &&
    !READ_METHODS.has(request.method) &&
    !ALLOWED_WHEN_SUSPENDED.has(permission)
  ) {
    throw new AppError(
      403,
      'organization_suspended',
      `The organization is ${auth.organizationStatus}: it can read but not change or run anything until an owner reactivates it`,
      { details: { status: auth.organizationStatus } },
    );
  }
}

/** The caller of a route that requires authentication (the preceding hook guarantees it). */
export function authOf(request: FastifyRequest): AuthContext {
  if (!request.auth) throw unauthorized();
  return request.auth;
}

/** For routes that only a signed-in person (not an API key) may call. */
export function userOf(request: FastifyRequest): AuthContext & { userId: string } {
  const auth = authOf(request);
  if (!auth.userId) {
    throw forbidden('This is for signed-in users, not API keys: use an access token from POST /auth/login');
  }
  return auth as AuthContext & { userId: string };
}

export type { FastifyReply };
