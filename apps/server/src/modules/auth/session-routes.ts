import { authSessionSchema } from '@aiops/contracts';
import { isAppError } from '@aiops/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  clearSessionCookies,
  readRefreshCookie,
  readSessionCookie,
  setSessionCookies,
} from '../../http/cookies.ts';
import type { AppModule, ModuleDeps } from '../../module.ts';
import { makeAuthenticator } from '../../services/authenticate.ts';
import { refreshSession } from '../../services/sessions.ts';
import { cookiesSecure } from '../../settings.ts';
import * as auth from './service.ts';

const tags = ['auth'];
const signedOut = { authenticated: false as const };

/**
 * `GET /auth/session`: whether the caller is signed in, and as whom. The studio's one probe when it loads:
 * it answers 200 either way (a signed-out visitor causes no failed request), and when the access cookie
 * has expired but the refresh cookie is still good, it refreshes the session (new cookies) and answers
 * as signed in, so the studio needs no second request.
 */
export const sessionRoutes: AppModule = (deps) => async (app) => {
  const authenticate = makeAuthenticator(deps);
  app.get(
    '/auth/session',
    {
      config: { permission: 'public' },
      schema: {
        tags,
        summary: 'Signed in? 200 {authenticated: false}, or {authenticated: true, …the caller as in GET /me}',
        response: { 200: authSessionSchema },
      },
    },
    async (request, reply) => {
      if (!request.auth && !(await refreshFromCookie(deps, authenticate, request, reply))) return signedOut;
      return { authenticated: true as const, ...(await auth.me(deps, request)) };
    },
  );
};

/** Renews the studio's session from its refresh cookie; false (and the stale cookies cleared) if it cannot. */
async function refreshFromCookie(
  deps: ModuleDeps,
  authenticate: ReturnType<typeof makeAuthenticator>,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<boolean> {
  const refreshToken = readRefreshCookie(request);
  // A bearer token that is not valid is the API client's business: no cookie is touched.
  if (request.headers.authorization !== undefined) return false;
  if (!refreshToken) {
    if (readSessionCookie(request)) clearSessionCookies(reply);
    return false;
  }
  let issued: Awaited<ReturnType<typeof refreshSession>>;
  try {
    issued = await refreshSession(deps, request, refreshToken);
  } catch (e) {
    if (!isAppError(e) || e.status !== 401) throw e;
    clearSessionCookies(reply);
    return false;
  }
  const { sessionId: _s, organizationId: _o, userId: _u, ...tokens } = issued;
  const found = await authenticate(tokens.token);
  if (!found) return false;
  setSessionCookies(reply, tokens, {
    secure: cookiesSecure(deps.settings),
    refreshTtlSeconds: deps.settings.refreshTokenTtlSeconds,
  });
  request.auth = found.auth;
  return true;
}
