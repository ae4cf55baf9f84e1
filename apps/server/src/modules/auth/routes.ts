import {
  acceptedSchema,
  changePasswordBodySchema,
  loginBodySchema,
  meResponseSchema,
  okSchema,
  passwordResetConfirmBodySchema,
  passwordResetRequestBodySchema,
  refreshBodySchema,
  sessionResponseSchema,
  signupBodySchema,
  switchOrgBodySchema,
  tokenBodySchema,
  tokenPairSchema,
} from '@aiops/contracts';
import { unauthorized } from '@aiops/core';
import type { FastifyReply } from 'fastify';
import { clearSessionCookies, readRefreshCookie, setSessionCookies } from '../../http/cookies.ts';
import type { AppModule, ModuleDeps } from '../../module.ts';
import { toOrganizationDto, toUserDto } from '../../services/dto.ts';
import type { IssuedSession } from '../../services/sessions.ts';
import { refreshSession } from '../../services/sessions.ts';
import { cookiesSecure } from '../../settings.ts';
import { mfaRoutes } from './mfa-routes.ts';
import { oauthRoutes } from './oauth-routes.ts';
import * as auth from './service.ts';
import { sessionRoutes } from './session-routes.ts';

const tags = ['auth'];

export function sessionBody(
  deps: ModuleDeps,
  reply: FastifyReply,
  r: {
    session: IssuedSession;
    user: Parameters<typeof toUserDto>[0];
    org: Parameters<typeof toOrganizationDto>[0];
  },
  cookie: boolean | undefined,
) {
  const { sessionId: _sid, ...tokens } = r.session;
  if (cookie) {
    setSessionCookies(reply, tokens, {
      secure: cookiesSecure(deps.settings),
      refreshTtlSeconds: deps.settings.refreshTokenTtlSeconds,
    });
  }
  return { ...tokens, user: toUserDto(r.user), organization: toOrganizationDto(r.org) };
}

/** Accounts: sign-up, sign-in, tokens, sign-out, organization switch, profile, passwords, email checks. */
export const authModule: AppModule = (deps) => async (app) => {
  app.post(
    '/auth/signup',
    {
      config: { permission: 'public' },
      schema: {
        tags,
        summary: 'Create an account: a user, an organization and its owner membership',
        body: signupBodySchema,
        response: { 201: sessionResponseSchema },
      },
    },
    async (request, reply) => {
      const r = await auth.signup(deps, request, request.body);
      return reply.status(201).send(sessionBody(deps, reply, r, request.body.cookie));
    },
  );

  app.post(
    '/auth/login',
    {
      config: { permission: 'public' },
      schema: {
        tags,
        summary: 'Sign in with email and password (and a TOTP or recovery code when MFA is on)',
        body: loginBodySchema,
        response: { 200: sessionResponseSchema },
      },
    },
    async (request, reply) => {
      const r = await auth.login(deps, request, request.body);
      return sessionBody(deps, reply, r, request.body.cookie);
    },
  );

  app.post(
    '/auth/refresh',
    {
      config: { permission: 'public' },
      schema: {
        tags,
        summary: 'Exchange a refresh token (body or cookie) for a new token pair; the old one stops working',
        body: refreshBodySchema.nullish(),
        response: { 200: tokenPairSchema },
      },
    },
    async (request, reply) => {
      const fromCookie = readRefreshCookie(request);
      const given = request.body?.refreshToken ?? fromCookie;
      if (!given) {
        throw unauthorized(
          'No refresh token: send body.refreshToken or the refresh cookie (a signed-out visitor has neither: sign in)',
        );
      }
      const {
        sessionId: _s,
        organizationId: _o,
        userId: _u,
        ...tokens
      } = await refreshSession(deps, request, given);
      if (fromCookie && !request.body?.refreshToken) {
        setSessionCookies(reply, tokens, {
          secure: cookiesSecure(deps.settings),
          refreshTtlSeconds: deps.settings.refreshTokenTtlSeconds,
        });
      }
      return tokens;
    },
  );

  app.post(
    '/auth/logout',
    {
      config: { permission: 'authenticated' },
      schema: { tags, summary: 'Sign out: revokes this session (access and refresh token) at once' },
    },
    async (request, reply) => {
      await auth.logout(request);
      clearSessionCookies(reply);
      return reply.status(204).send();
    },
  );

  app.post(
    '/auth/switch-org',
    {
      config: { permission: 'authenticated' },
      schema: {
        tags,
        summary: 'A session in another organization you belong to',
        body: switchOrgBodySchema,
        response: { 200: sessionResponseSchema },
      },
    },
    async (request, reply) => {
      const r = await auth.switchOrg(deps, request, request.body.organizationId);
      return sessionBody(deps, reply, r, request.body.cookie);
    },
  );

  app.get(
    '/me',
    {
      config: { permission: 'authenticated' },
      schema: {
        tags,
        summary: 'The caller: user (or API key), organization, role and permissions',
        response: { 200: meResponseSchema },
      },
    },
    async (request) => auth.me(deps, request),
  );

  app.post(
    '/auth/password',
    {
      config: { permission: 'authenticated' },
      schema: {
        tags,
        summary: 'Change the password; every session of the account is revoked and a new one returned',
        body: changePasswordBodySchema,
        response: { 200: tokenPairSchema },
      },
    },
    async (request) => {
      const { sessionId: _s, ...tokens } = await auth.changePassword(deps, request, request.body);
      return tokens;
    },
  );

  app.post(
    '/auth/verify-email',
    {
      config: { permission: 'public' },
      schema: {
        tags,
        summary: 'Confirm the email address with the mailed token',
        body: tokenBodySchema,
        response: { 200: okSchema },
      },
    },
    async (request) => {
      await auth.verifyEmail(deps, request, request.body.token);
      return { ok: true as const };
    },
  );

  app.post(
    '/auth/verify-email/resend',
    {
      config: { permission: 'authenticated', audit: false },
      schema: { tags, summary: 'Mail a new verification link', response: { 202: acceptedSchema } },
    },
    async (request, reply) => {
      await auth.resendVerification(deps, request);
      return reply.status(202).send({
        status: 'accepted' as const,
        message: 'If the address is not verified yet, a link is on its way',
      });
    },
  );

  app.post(
    '/auth/password-reset/request',
    {
      config: { permission: 'public', audit: false },
      schema: {
        tags,
        summary: 'Mail a password reset link (answers the same whether or not the account exists)',
        body: passwordResetRequestBodySchema,
        response: { 202: acceptedSchema },
      },
    },
    async (request, reply) => {
      await auth.requestPasswordReset(deps, request.body.email);
      return reply.status(202).send({
        status: 'accepted' as const,
        message: 'If an account has this address, a reset link is on its way',
      });
    },
  );

  app.post(
    '/auth/password-reset/confirm',
    {
      config: { permission: 'public' },
      schema: {
        tags,
        summary: 'Set a new password with the mailed token; every session is revoked',
        body: passwordResetConfirmBodySchema,
        response: { 200: okSchema },
      },
    },
    async (request) => {
      await auth.confirmPasswordReset(deps, request, request.body);
      return { ok: true as const };
    },
  );

  await app.register(sessionRoutes(deps));
  await app.register(mfaRoutes(deps));
  await app.register(oauthRoutes(deps));
};
