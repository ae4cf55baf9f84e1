import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'drizzle-orm';
import Provider from 'oidc-provider';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, signUp, startTestServer, type TestServer } from '../../test-support.ts';

/**
 * Sign-in with Google and Microsoft against a real OpenID Connect provider (oidc-provider) started here,
 * and with GitHub against a local server speaking GitHub's OAuth and user API wire format (GitHub is not
 * an OIDC provider and cannot be reached from here). No network.
 */
const PUBLIC = 'http://studio.test';
const people: Record<string, { email: string; verified: boolean; name: string }> = {
  alice: { email: 'alice@example.test', verified: true, name: 'Alice' },
  mallory: { email: 'mallory@example.test', verified: false, name: 'Mallory' },
};
let oidc: Server;
let github: Server;
let issuer: string;
let githubUrl: string;
let s: TestServer;

function listen(server: Server): Promise<string> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
    ),
  );
}

async function startOidcProvider() {
  oidc = createServer();
  issuer = await listen(oidc);
  const provider = new Provider(issuer, {
    clients: ['google-client', 'microsoft-client'].map((id, i) => ({
      client_id: id,
      client_secret: `secret-${id}`,
      redirect_uris: [`${PUBLIC}/api/v1/auth/oauth/${i === 0 ? 'google' : 'microsoft'}/callback`],
      grant_types: ['authorization_code'],
      response_types: ['code'],
    })),
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    cookies: { keys: ['test-cookie-key'] },
    findAccount: (_ctx, id) => {
      const p = people[id] ?? { email: `${id}@example.test`, verified: true, name: id };
      return {
        accountId: id,
        claims: () => ({ sub: `oidc|${id}`, email: p.email, email_verified: p.verified, name: p.name }),
      };
    },
  });
  oidc.on('request', provider.callback());
}

/** GitHub's wire format: authorize (redirects straight back, as if the user approved), token, user, emails. */
async function startGithub() {
  const codes = new Map<string, { challenge: string; login: string }>();
  const tokens = new Map<string, string>();
  github = createServer(async (req, res) => {
    const url = new URL(req.url!, 'http://x');
    if (url.pathname === '/login/oauth/authorize') {
      const code = randomBytes(8).toString('hex');
      codes.set(code, { challenge: url.searchParams.get('code_challenge')!, login: 'octo' });
      res.writeHead(302, {
        location: `${url.searchParams.get('redirect_uri')}?code=${code}&state=${url.searchParams.get('state')}`,
      });
      return res.end();
    }
    if (url.pathname === '/login/oauth/access_token') {
      let body = '';
      for await (const c of req) body += c;
      const form = new URLSearchParams(body);
      const basic = Buffer.from(
        (req.headers.authorization ?? '').replace(/^Basic /, ''),
        'base64',
      ).toString();
      // GitHub takes the client credentials in the form (client_secret_post) or as HTTP Basic.
      const posted = `${form.get('client_id')}:${form.get('client_secret')}`;
      const c = codes.get(form.get('code') ?? '');
      const verifierOk =
        c &&
        createHash('sha256')
          .update(form.get('code_verifier') ?? '')
          .digest('base64url') === c.challenge;
      if (!c || !verifierOk || (basic !== 'gh-client:gh-secret' && posted !== 'gh-client:gh-secret')) {
        res.writeHead(400, { 'content-type': 'application/json' });
        return res.end(JSON.stringify({ error: 'bad_verification_code' }));
      }
      const token = `gho_${randomBytes(8).toString('hex')}`;
      tokens.set(token, c.login);
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(
        JSON.stringify({ access_token: token, token_type: 'bearer', scope: 'read:user,user:email' }),
      );
    }
    const login = tokens.get((req.headers.authorization ?? '').replace(/^Bearer /, ''));
    if (!login) {
      res.writeHead(401);
      return res.end();
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    if (url.pathname === '/user') return res.end(JSON.stringify({ id: 4242, login, name: 'Octo Cat' }));
    if (url.pathname === '/user/emails') {
      return res.end(JSON.stringify([{ email: 'octo@example.test', primary: true, verified: true }]));
    }
    res.end('{}');
  });
  githubUrl = await listen(github);
}

beforeAll(async () => {
  await startOidcProvider();
  await startGithub();
  s = await startTestServer({
    settings: {
      publicUrl: PUBLIC,
      oauth: {
        google: { clientId: 'google-client', clientSecret: 'secret-google-client', issuer },
        microsoft: { clientId: 'microsoft-client', clientSecret: 'secret-microsoft-client', issuer },
        github: { clientId: 'gh-client', clientSecret: 'gh-secret', url: githubUrl, apiUrl: githubUrl },
      },
    },
  });
});
afterAll(async () => {
  await s?.close();
  oidc?.close();
  github?.close();
});

/**
 * Plays the browser: start at our server, follow redirects through the provider (answering its login and
 * consent pages as `login`), and deliver the callback to our server. Returns our server's answer.
 */
async function signInWith(provider: string, login: string, redirect?: string) {
  const jar = new Map<string, string>();
  const remember = (res: Response) => {
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const i = pair!.indexOf('=');
      jar.set(pair!.slice(0, i), pair!.slice(i + 1));
    }
  };
  const cookie = () => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
  const start = await s.request(
    `/api/v1/auth/oauth/${provider}/start${redirect ? `?redirect=${encodeURIComponent(redirect)}` : ''}`,
    {
      redirect: 'manual',
    },
  );
  expect(start.status).toBe(302);
  remember(start);
  let next = start.headers.get('location')!;
  let init: RequestInit = {};
  for (let hop = 0; hop < 20; hop++) {
    if (next.startsWith(PUBLIC)) {
      const res = await s.request(next.slice(PUBLIC.length), {
        headers: { cookie: cookie() },
        redirect: 'manual',
      });
      return res;
    }
    const res = await fetch(next, {
      ...init,
      headers: { ...(init.headers as object), cookie: cookie() },
      redirect: 'manual',
    });
    remember(res);
    init = {};
    if (res.status >= 300 && res.status < 400) {
      next = new URL(res.headers.get('location')!, next).toString();
      continue;
    }
    const html = await res.text();
    const prompt = /name="prompt" value="(\w+)"/.exec(html)?.[1];
    if (!prompt) throw new Error(`unexpected provider page ${res.status}: ${html.slice(0, 300)}`);
    const body = prompt === 'login' ? `prompt=login&login=${login}&password=x` : 'prompt=consent';
    init = { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } };
  }
  throw new Error('too many redirects');
}

describe('sign-in with OpenID Connect providers', () => {
  it('Google: a new verified email gets an account and an organization; the next sign-in finds it', async () => {
    const first = await signInWith('google', 'alice');
    const body = (await first.json()) as {
      token: string;
      user: { id: string; email: string; authProvider: string; emailVerified: boolean };
    };
    expect(first.status).toBe(200);
    expect(body.user).toMatchObject({
      email: 'alice@example.test',
      authProvider: 'google',
      emailVerified: true,
    });
    const me = await call(s, 'GET', '/api/v1/me', { token: body.token });
    expect(me.body.role).toBe('owner');
    const again = await signInWith('google', 'alice');
    expect(((await again.json()) as { user: { id: string } }).user.id).toBe(body.user.id);
    // No password was set: password sign-in is not possible for this account.
    const pw = await call(s, 'POST', '/api/v1/auth/login', {
      body: { email: 'alice@example.test', password: 'Anything-at-all-1' },
    });
    expect(pw.status).toBe(401);
  });

  it('Microsoft: links to an existing verified account with the same email', async () => {
    const u = await signUp(s, { email: 'bob@example.test' });
    await s.database.db.system((tx) =>
      tx.execute(sql`UPDATE users SET email_verified = true WHERE id = ${u.userId}`),
    );
    const res = await signInWith('microsoft', 'bob');
    const body = (await res.json()) as { user: { id: string } };
    expect(res.status).toBe(200);
    expect(body.user.id).toBe(u.userId);
    // The password still works for the linked account.
    expect(
      (await call(s, 'POST', '/api/v1/auth/login', { body: { email: u.email, password: u.password } }))
        .status,
    ).toBe(200);
  });

  it('an unverified local account with that email is claimed: its password and sessions end', async () => {
    const squatter = await signUp(s, { email: 'carol@example.test' });
    const res = await signInWith('google', 'carol');
    expect(res.status).toBe(200);
    expect((await call(s, 'GET', '/api/v1/me', { token: squatter.token })).status).toBe(401);
    const pw = await call(s, 'POST', '/api/v1/auth/login', {
      body: { email: squatter.email, password: squatter.password },
    });
    expect(pw.status).toBe(401);
  });

  it('refuses an email the provider did not verify', async () => {
    const res = await signInWith('google', 'mallory');
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('email_not_verified');
  });

  it('with ?redirect= sets the session cookies and sends the browser there', async () => {
    const res = await signInWith('google', 'dave', '/studio/home');
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/studio/home');
    const cookies = res.headers.getSetCookie().filter((c) => c.startsWith('aiops_session='));
    expect(cookies).toHaveLength(1);
    const me = await s.request('/api/v1/me', { headers: { cookie: cookies[0]!.split(';')[0]! } });
    expect(me.status).toBe(200);
  });
});

describe('sign-in with GitHub', () => {
  it('uses the primary verified email of the GitHub account', async () => {
    const res = await signInWith('github', 'octo');
    const body = (await res.json()) as { user: { email: string; authProvider: string } };
    expect(res.status).toBe(200);
    expect(body.user).toMatchObject({ email: 'octo@example.test', authProvider: 'github' });
  });
});

describe('failures', () => {
  it('a callback without a sign-in in progress, or with a forged state, is refused', async () => {
    const none = await call(s, 'GET', '/api/v1/auth/oauth/google/callback?code=abc&state=def');
    expect(none.status).toBe(400);
    expect(none.body.error.code).toBe('oauth_failed');
    const start = await s.request('/api/v1/auth/oauth/google/start', { redirect: 'manual' });
    const cookie = start.headers.getSetCookie()[0]!.split(';')[0]!;
    const forged = await s.request('/api/v1/auth/oauth/google/callback?code=abc&state=forged', {
      headers: { cookie },
    });
    expect(forged.status).toBe(400);
    const denied = await call(s, 'GET', '/api/v1/auth/oauth/google/callback?error=access_denied');
    expect(denied.body.error.code).toBe('oauth_denied');
  });

  it('an unconfigured provider answers 404 naming the variables to set', async () => {
    const bare = await startTestServer();
    try {
      const r = await call(bare, 'GET', '/api/v1/auth/oauth/github/start');
      expect(r.status).toBe(404);
      expect(r.body.error.message).toContain('AIOPS_GITHUB_CLIENT_ID');
      expect((await call(bare, 'GET', '/api/v1/auth/oauth/myspace/start')).status).toBe(400);
      expect(
        (await call(bare, 'GET', '/api/v1/auth/oauth/google/start?redirect=https://evil.test')).status,
      ).toBe(400);
    } finally {
      await bare.close();
    }
  });
});
