import {
  oauthCallbackQuerySchema,
  oauthProviderParamsSchema,
  oauthStartQuerySchema,
  sessionResponseSchema,
} from '@aiops/contracts';
import { setSessionCookies } from '../../http/cookies.ts';
import type { AppModule } from '../../module.ts';
import { toOrganizationDto, toUserDto } from '../../services/dto.ts';
import { cookiesSecure } from '../../settings.ts';
import { OAuthProviders } from './oauth-providers.ts';
import { finishOAuth, startOAuth } from './oauth-service.ts';

const tags = ['auth'];

/** Sign-in with Google, Microsoft and GitHub (authorization code flow with PKCE, state and nonce). */
export const oauthRoutes: AppModule = (deps) => async (app) => {
  const providers = new OAuthProviders(deps.settings.oauth);
  app.get(
    '/auth/oauth/:provider/start',
    {
      config: { permission: 'public' },
      schema: {
        tags,
        summary: 'Redirects to the provider’s sign-in page',
        params: oauthProviderParamsSchema,
        querystring: oauthStartQuerySchema,
      },
    },
    async (request, reply) => {
      const url = await startOAuth(deps, providers, reply, request.params.provider, request.query.redirect);
      return reply.redirect(url, 302);
    },
  );
  app.get(
    '/auth/oauth/:provider/callback',
    {
      config: { permission: 'public' },
      schema: {
        tags,
        summary:
          'Where the provider sends the browser back; answers a session (or sets cookies and redirects)',
        params: oauthProviderParamsSchema,
        querystring: oauthCallbackQuerySchema,
        response: { 200: sessionResponseSchema },
      },
    },
    async (request, reply) => {
      const { result, redirect } = await finishOAuth(
        deps,
        providers,
        request,
        reply,
        request.params.provider,
        request.query,
      );
      const { sessionId: _s, ...tokens } = result.session;
      if (redirect) {
        setSessionCookies(reply, tokens, {
          secure: cookiesSecure(deps.settings),
          refreshTtlSeconds: deps.settings.refreshTokenTtlSeconds,
        });
        return reply.redirect(redirect, 302);
      }
      return { ...tokens, user: toUserDto(result.user), organization: toOrganizationDto(result.org) };
    },
  );
};
