import type { OAuthConfig } from '@aiops/config';
import { AppError } from '@aiops/core';
import * as client from 'openid-client';

export type ProviderName = 'google' | 'microsoft' | 'github';

/** Who the provider says signed in. `emailVerified` is the provider's word, not ours. */
export interface ExternalIdentity {
  provider: ProviderName;
  subject: string;
  email: string | undefined;
  emailVerified: boolean;
  name: string | undefined;
}

const LABEL: Record<ProviderName, string> = { google: 'Google', microsoft: 'Microsoft', github: 'GitHub' };
const ENV: Record<ProviderName, string> = { google: 'GOOGLE', microsoft: 'MICROSOFT', github: 'GITHUB' };

/**
 * The sign-in providers, through openid-client: Google and Microsoft by OpenID Connect discovery, GitHub
 * as a plain OAuth 2.0 server (it has no OIDC for user sign-in) whose user API gives the verified email.
 * Plain-http issuers are accepted only on loopback addresses (local test providers).
 */
export class OAuthProviders {
  private readonly configs = new Map<ProviderName, Promise<client.Configuration>>();

  constructor(private readonly settings: OAuthConfig) {}

  enabled(): ProviderName[] {
    return (['google', 'microsoft', 'github'] as const).filter((p) => this.settings[p]);
  }

  isOidc(provider: ProviderName): boolean {
    return provider !== 'github';
  }

  configuration(provider: ProviderName): Promise<client.Configuration> {
    let c = this.configs.get(provider);
    if (!c) {
      c = this.load(provider);
      // A failed discovery (provider unreachable) is retried on the next sign-in, not cached.
      c.catch(() => this.configs.delete(provider));
      this.configs.set(provider, c);
    }
    return c;
  }

  private async load(provider: ProviderName): Promise<client.Configuration> {
    const s = this.settings[provider];
    if (!s) {
      throw new AppError(
        404,
        'provider_not_configured',
        `Sign-in with ${LABEL[provider]} is not configured: set AIOPS_${ENV[provider]}_CLIENT_ID and AIOPS_${ENV[provider]}_CLIENT_SECRET`,
      );
    }
    if (provider === 'github') {
      const gh = this.settings.github!;
      const config = new client.Configuration(
        {
          issuer: gh.url,
          authorization_endpoint: `${gh.url}/login/oauth/authorize`,
          token_endpoint: `${gh.url}/login/oauth/access_token`,
        },
        gh.clientId,
        gh.clientSecret,
      );
      if (isLoopbackHttp(gh.url)) client.allowInsecureRequests(config);
      return config;
    }
    const oidc = this.settings[provider]!;
    try {
      return await client.discovery(new URL(oidc.issuer), oidc.clientId, oidc.clientSecret, undefined, {
        execute: isLoopbackHttp(oidc.issuer) ? [client.allowInsecureRequests] : [],
      });
    } catch (e) {
      throw new AppError(
        503,
        'provider_unavailable',
        `${LABEL[provider]} could not be reached: try again later`,
        {
          cause: e,
        },
      );
    }
  }

  /** After the code exchange: the signed-in identity (ID token + userinfo, or GitHub's user API). */
  async identity(
    provider: ProviderName,
    config: client.Configuration,
    tokens: Awaited<ReturnType<typeof client.authorizationCodeGrant>>,
  ): Promise<ExternalIdentity> {
    if (provider !== 'github') {
      const claims = tokens.claims();
      if (!claims) throw new AppError(502, 'provider_error', `${LABEL[provider]} returned no ID token`);
      const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
      const email = (info.email ?? claims.email) as string | undefined;
      // Microsoft sends no email_verified; its optional xms_edov claim says the domain owner verified it.
      const verified =
        info.email_verified === true || claims.email_verified === true || claims.xms_edov === true;
      return {
        provider,
        subject: claims.sub,
        email: email?.toLowerCase(),
        emailVerified: verified,
        name: (info.name ?? claims.name) as string | undefined,
      };
    }
    const api = this.settings.github!.apiUrl;
    const get = async (path: string) => {
      const res = await client.fetchProtectedResource(
        config,
        tokens.access_token,
        new URL(`${api}${path}`),
        'GET',
      );
      if (!res.ok) throw new AppError(502, 'provider_error', `GitHub answered ${res.status} for ${path}`);
      return res.json() as Promise<unknown>;
    };
    const user = (await get('/user')) as { id: number; login: string; name?: string | null };
    const emails = (await get('/user/emails')) as { email: string; primary: boolean; verified: boolean }[];
    const primary = emails.find((e) => e.primary && e.verified) ?? emails.find((e) => e.verified);
    return {
      provider,
      subject: String(user.id),
      email: primary?.email.toLowerCase(),
      emailVerified: !!primary,
      name: user.name ?? user.login,
    };
  }
}

function isLoopbackHttp(url: string): boolean {
  const u = new URL(url);
  return u.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname);
}
