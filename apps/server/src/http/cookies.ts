import type { FastifyReply, FastifyRequest } from 'fastify';

/** The studio's cookies: HTTP-only and SameSite=Strict, so page scripts and other sites cannot use them. */
export const SESSION_COOKIE = 'aiops_session';
export const REFRESH_COOKIE = 'aiops_refresh';
/** The auth routes only: `/auth/refresh`, and `/auth/session`, which refreshes an expired session itself. */
const REFRESH_PATH = '/api/v1/auth';
/** Where the refresh cookie lived before; cleared on sign-out so no stale copy stays behind. */
const OLD_REFRESH_PATH = '/api/v1/auth/refresh';

export function readSessionCookie(request: FastifyRequest): string | undefined {
  return request.cookies?.[SESSION_COOKIE] || undefined;
}
export function readRefreshCookie(request: FastifyRequest): string | undefined {
  return request.cookies?.[REFRESH_COOKIE] || undefined;
}

export function setSessionCookies(
  reply: FastifyReply,
  tokens: { token: string; refreshToken: string; expiresIn: number },
  options: { secure: boolean; refreshTtlSeconds: number },
): void {
  const base = { httpOnly: true, sameSite: 'strict' as const, secure: options.secure };
  reply.setCookie(SESSION_COOKIE, tokens.token, { ...base, path: '/', maxAge: tokens.expiresIn });
  reply.setCookie(REFRESH_COOKIE, tokens.refreshToken, {
    ...base,
    path: REFRESH_PATH,
    maxAge: options.refreshTtlSeconds,
  });
}

export function clearSessionCookies(reply: FastifyReply): void {
  reply.clearCookie(SESSION_COOKIE, { path: '/' });
  reply.clearCookie(REFRESH_COOKIE, { path: REFRESH_PATH });
  reply.clearCookie(REFRESH_COOKIE, { path: OLD_REFRESH_PATH });
}
