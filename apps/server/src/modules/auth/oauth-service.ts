import { randomUUID } from 'node:crypto';
import { AppError, forbidden } from '@aiops/core';
import { authIdentities, memberships, organizations, type Tx, users } from '@aiops/db';
import { and, eq, sql } from 'drizzle-orm';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { jwtVerify, SignJWT } from 'jose';
import * as client from 'openid-client';
import { audit } from '../../http/tenant.ts';
import type { ModuleDeps } from '../../module.ts';
import { revokeUserSessionsIn } from '../../services/sessions.ts';
import type { ExternalIdentity, OAuthProviders, ProviderName } from './oauth-providers.ts';
import { publicUserColumns } from './repo.ts';
import { auditInHomeOrganization, slugify, startSession } from './service.ts';

/** The short-lived, signed cookie that carries state, nonce and PKCE verifier through the provider. */
export const OAUTH_COOKIE = 'aiops_oauth';
const OAUTH_COOKIE_PATH = '/api/v1/auth/oauth';
const FLOW_TTL_SECONDS = 600;

interface Flow {
  provider: ProviderName;
  state: string;
  nonce?: string;
  verifier: string;
  redirect?: string;
}

const callbackUrl = (deps: ModuleDeps, provider: ProviderName) =>
  `${deps.settings.publicUrl}/api/v1/auth/oauth/${provider}/callback`;

/** Sends the browser to the provider, with state, nonce and PKCE (S256). */
export async function startOAuth(
  deps: ModuleDeps,
  providers: OAuthProviders,
  reply: FastifyReply,
  provider: ProviderName,
  redirect: string | undefined,
) {
  const config = await providers.configuration(provider);
  const verifier = client.randomPKCECodeVerifier();
  const flow: Flow = { provider, state: client.randomState(), verifier, ...(redirect ? { redirect } : {}) };
  if (providers.isOidc(provider)) flow.nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: callbackUrl(deps, provider),
    scope: providers.isOidc(provider) ? 'openid email profile' : 'read:user user:email',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state: flow.state,
    ...(flow.nonce ? { nonce: flow.nonce } : {}),
  });
  const signed = await new SignJWT({ ...flow })
    .setProtectedHeader({ alg: 'HS256', typ: 'oauth-flow' })
    .setExpirationTime(`${FLOW_TTL_SECONDS}s`)
    .sign(deps.settings.jwtSecret);
  // SameSite=Lax: the cookie must come back on the provider's top-level redirect to the callback.
  reply.setCookie(OAUTH_COOKIE, signed, {
    httpOnly: true,
    sameSite: 'lax',
    secure: deps.settings.publicUrl.startsWith('https://'),
    path: OAUTH_COOKIE_PATH,
    maxAge: FLOW_TTL_SECONDS,
  });
  return url.toString();
}

const badFlow = (why: string) =>
  new AppError(
    400,
    'oauth_failed',
    `Sign-in could not be completed (${why}): start again from the sign-in page`,
  );

/** The provider sent the browser back: exchange the code, find or create the user, start a session. */
export async function finishOAuth(
  deps: ModuleDeps,
  providers: OAuthProviders,
  request: FastifyRequest,
  reply: FastifyReply,
  provider: ProviderName,
  query: { error?: string | undefined; error_description?: string | undefined },
) {
  reply.clearCookie(OAUTH_COOKIE, { path: OAUTH_COOKIE_PATH });
  if (query.error) {
    throw new AppError(
      400,
      'oauth_denied',
      `The provider refused the sign-in: ${query.error_description ?? query.error}`,
    );
  }
  const cookie = request.cookies[OAUTH_COOKIE];
  if (!cookie) throw badFlow('no sign-in in progress in this browser');
  let flow: Flow;
  try {
    flow = (await jwtVerify(cookie, deps.settings.jwtSecret, { typ: 'oauth-flow', algorithms: ['HS256'] }))
      .payload as unknown as Flow;
  } catch {
    throw badFlow('the sign-in expired');
  }
  if (flow.provider !== provider) throw badFlow('provider mismatch');
  const config = await providers.configuration(provider);
  const current = new URL(callbackUrl(deps, provider));
  current.search = new URL(request.url, 'http://x').search;
  let tokens: Awaited<ReturnType<typeof client.authorizationCodeGrant>>;
  try {
    tokens = await client.authorizationCodeGrant(config, current, {
      pkceCodeVerifier: flow.verifier,
      expectedState: flow.state,
      ...(flow.nonce ? { expectedNonce: flow.nonce } : {}),
      idTokenExpected: providers.isOidc(provider),
    });
  } catch (e) {
    request.log.warn({ provider, err: { message: (e as Error).message } }, 'oauth code exchange failed');
    throw badFlow('the provider did not confirm it');
  }
  const identity = await providers.identity(provider, config, tokens);
  const userId = await findOrCreateUser(deps, request, identity);
  const result = await startSession(deps, request, userId, undefined, {
    method: `oauth:${provider}`,
    mfaVerified: false,
  });
  return { result, redirect: flow.redirect };
}

/**
 * A known identity signs its user in. Otherwise the account is linked by a verified email: to the user
 * with that email, or to a new user with their own organization. An unverified local account with that
 * email is taken over by the address's proven owner: its password is removed and its sessions revoked,
 * so whoever registered the address without proving it loses access. Crosses tenants: `system`.
 */
async function findOrCreateUser(
  deps: ModuleDeps,
  request: FastifyRequest,
  id: ExternalIdentity,
): Promise<string> {
  const mfaGuard = async (tx: Tx, userId: string) => {
    const [u] = await tx
      .select({ mfa: users.mfaEnabled, active: users.isActive })
      .from(users)
      .where(eq(users.id, userId));
    if (!u?.active) throw forbidden('This account is deactivated');
    if (u.mfa) {
      throw new AppError(
        403,
        'mfa_required',
        'This account uses two-factor authentication: sign in with email, password and code',
      );
    }
  };
  return deps.db.system(async (tx) => {
    const [linked] = await tx
      .select({ userId: authIdentities.userId })
      .from(authIdentities)
      .where(and(eq(authIdentities.provider, id.provider), eq(authIdentities.subject, id.subject)));
    if (linked) {
      await mfaGuard(tx, linked.userId);
      await tx
        .update(authIdentities)
        .set({ lastUsedAt: sql`now()` })
        .where(and(eq(authIdentities.provider, id.provider), eq(authIdentities.subject, id.subject)));
      return linked.userId;
    }
    if (!id.email || !id.emailVerified) {
      throw new AppError(
        403,
        'email_not_verified',
        'The provider did not confirm your email address: verify it there, or sign up with email and password',
      );
    }
    const [existing] = await tx.select().from(users).where(eq(users.email, id.email));
    if (existing) {
      await mfaGuard(tx, existing.id);
      if (!existing.emailVerified) {
        await tx
          .update(users)
          .set({
            emailVerified: true,
            emailVerifiedAt: new Date(),
            passwordHash: null,
            updatedAt: new Date(),
          })
          .where(eq(users.id, existing.id));
        await revokeUserSessionsIn(tx, existing.id, 'unverified_account_claimed');
      }
      await tx
        .insert(authIdentities)
        .values({ userId: existing.id, provider: id.provider, subject: id.subject, email: id.email });
      await auditInHomeOrganization(tx, request, existing.id, {
        action: 'identity_linked',
        metadata: { provider: id.provider, claimedUnverified: !existing.emailVerified },
      });
      return existing.id;
    }
    const [user] = await tx
      .insert(users)
      .values({
        email: id.email,
        fullName: id.name ?? id.email,
        emailVerified: true,
        emailVerifiedAt: new Date(),
        authProvider: id.provider,
        authProviderId: id.subject,
      })
      .returning(publicUserColumns);
    const orgName = `${id.name ?? id.email.split('@')[0]}'s organization`;
    const orgId = randomUUID();
    await tx.insert(organizations).values({ id: orgId, name: orgName, slug: slugify(orgName) });
    await tx.insert(memberships).values({ organizationId: orgId, userId: user!.id, role: 'owner' });
    await tx
      .insert(authIdentities)
      .values({ userId: user!.id, provider: id.provider, subject: id.subject, email: id.email });
    await audit(tx, request, {
      actor: { organizationId: orgId, userId: user!.id },
      entityType: 'user',
      entityId: user!.id,
      action: 'signed_up',
      after: { email: id.email, provider: id.provider, organizationName: orgName, role: 'owner' },
    });
    return user!.id;
  });
}
