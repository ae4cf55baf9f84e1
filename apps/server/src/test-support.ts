import { Writable } from 'node:stream';
import { generateKey, parseKeyring, SecretBox } from '@aiops/core';
import { Worker, type WorkerOptions } from '@aiops/engine';
import { createEmbeddingPort, warmTokenizer } from '@aiops/providers';
import { createTestDatabase, type TestDatabase } from '@aiops/testing';
import type { FastifyInstance } from 'fastify';
import { type AppOptions, buildApp } from './app.ts';
import type { Tier, TierLimits } from './http/rate-limit.ts';

/** Test servers do not rate limit ordinary requests unless a test sets its own limits. */
const GENEROUS_TIERS = Object.fromEntries(
  (['starter', 'professional', 'business', 'enterprise'] as const).map((t) => [
    t,
    { userPerMinute: 1_000_000, orgPerMinute: 1_000_000 },
  ]),
) as Record<Tier, TierLimits>;

/** A server on a fresh test database, listening on a free loopback port, with its log lines captured. */
export interface TestServer {
  app: FastifyInstance;
  database: TestDatabase;
  url: string;
  logs: string[];
  /** The step worker, when started with `worker`. */
  worker: Worker | undefined;
  request(path: string, init?: RequestInit): Promise<Response>;
  close(): Promise<void>;
}

export async function startTestServer(
  options: Partial<AppOptions> & {
    beforeListen?: (app: FastifyInstance) => void | Promise<void>;
    /** Run a step worker beside the API (true, or its options). */
    worker?: boolean | Partial<WorkerOptions>;
  } = {},
): Promise<TestServer> {
  const database = await createTestDatabase();
  const logs: string[] = [];
  const logStream = new Writable({
    write(chunk, _enc, cb) {
      logs.push(...String(chunk).split('\n').filter(Boolean));
      cb();
    },
  });
  const secrets = new SecretBox(parseKeyring(`test:${generateKey()}`));
  let app: FastifyInstance;
  try {
    app = await buildApp({
      logLevel: 'info',
      secrets,
      ...options,
      settings: { rateLimits: { tiers: GENEROUS_TIERS, anonymousPerMinute: 1_000_000 }, ...options.settings },
      db: database.db,
      logStream,
    });
    await options.beforeListen?.(app);
    await app.listen({ host: '127.0.0.1', port: 0 });
  } catch (e) {
    await database.destroy();
    throw e;
  }
  const address = app.server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  let worker: Worker | undefined;
  if (options.worker) {
    warmTokenizer();
    worker = new Worker(database.db, app.engine.model, {
      embeddings: createEmbeddingPort({ resolveIntegration: () => undefined }),
      secrets: options.secrets ?? secrets,
      pollMs: 20,
      sweepMs: 200,
      ...(typeof options.worker === 'object' ? options.worker : {}),
    });
    await worker.start();
  }
  return {
    app,
    database,
    url,
    logs,
    worker,
    request: (path, init) => fetch(`${url}${path}`, init),
    async close() {
      await worker?.stop(1000);
      await app.close();
      await database.destroy();
    },
  };
}

export interface SignedUp {
  token: string;
  refreshToken: string;
  organizationId: string;
  userId: string;
  email: string;
  password: string;
}

let signUps = 0;

/**
 * Signs up a new user and organization through the real HTTP API (POST /api/v1/auth/signup) and returns
 * the owner's access token. Use it in any module's tests to act as a real, authenticated user.
 */
export async function signUp(
  server: Pick<TestServer, 'request'>,
  overrides: Partial<{ email: string; password: string; name: string; organizationName: string }> = {},
): Promise<SignedUp> {
  signUps += 1;
  const unique = `${process.pid}-${Date.now().toString(36)}-${signUps}`;
  const body = {
    email: `user-${unique}@example.test`,
    password: `Correct-Horse-${unique}!`,
    name: `Test User ${signUps}`,
    organizationName: `Test Org ${unique}`,
    ...overrides,
  };
  const res = await server.request('/api/v1/auth/signup', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (res.status !== 201) throw new Error(`signUp failed: ${res.status} ${await res.text()}`);
  const out = (await res.json()) as {
    token: string;
    refreshToken: string;
    user: { id: string; email: string };
    organization: { id: string };
  };
  return {
    token: out.token,
    refreshToken: out.refreshToken,
    organizationId: out.organization.id,
    userId: out.user.id,
    email: out.user.email,
    password: body.password,
  };
}

/** Headers that authenticate a request with an access token or an API key (and send JSON). */
export function authHeaders(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
}

export interface ApiResult<T = Record<string, unknown>> {
  status: number;
  body: T;
  headers: Headers;
}

/** One JSON request through real HTTP: `call(s, 'POST', '/api/v1/…', { token, body })`. */
// biome-ignore lint/suspicious/noExplicitAny: tests read loosely typed bodies
export async function call<T = any>(
  server: Pick<TestServer, 'request'>,
  method: string,
  path: string,
  options: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<ApiResult<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const res = await server.request(path, {
    method,
    headers,
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : null) as T, headers: res.headers };
}

/**
 * Moves `owner`'s organization to another plan through the API (POST /api/v1/billing/plan), e.g. to have
 * the seats for more members than the starter plan allows.
 */
export async function setPlan(
  server: Pick<TestServer, 'request'>,
  owner: Pick<SignedUp, 'token'>,
  tier: 'starter' | 'professional' | 'business' | 'enterprise',
): Promise<void> {
  const r = await call(server, 'POST', '/api/v1/billing/plan', { token: owner.token, body: { tier } });
  if (r.status !== 200) throw new Error(`setPlan: ${r.status} ${JSON.stringify(r.body)}`);
}

/**
 * Invites a new person into `owner`'s organization with `role` and signs them up by accepting it, through
 * the API. The invitation token is read from the development mail log (the server has no SMTP_URL).
 */
export async function addMember(
  server: TestServer,
  owner: Pick<SignedUp, 'token'>,
  role: 'owner' | 'admin' | 'member' | 'viewer',
  permissions: string[] = [],
): Promise<SignedUp> {
  signUps += 1;
  const email = `member-${process.pid}-${Date.now().toString(36)}-${signUps}@example.test`;
  const password = `Member-Passw0rd-${signUps}!`;
  const inv = await call(server, 'POST', '/api/v1/invitations', {
    token: owner.token,
    body: { email, role, permissions },
  });
  if (inv.status !== 201)
    throw new Error(`addMember: invitation failed: ${inv.status} ${JSON.stringify(inv.body)}`);
  const line = [...server.logs].reverse().find((l) => l.includes(email) && l.includes('inv_'));
  const token = line && /invitations\/(inv_[\w-]+)\/accept/.exec(line)?.[1];
  if (!token)
    throw new Error('addMember: no invitation mail in the log (is SMTP_URL set on this test server?)');
  const r = await call(server, 'POST', `/api/v1/invitations/${token}/accept`, {
    body: { name: `${role} ${signUps}`, password },
  });
  if (r.status !== 200) throw new Error(`addMember: accept failed: ${r.status} ${JSON.stringify(r.body)}`);
  return {
    token: r.body.token,
    refreshToken: r.body.refreshToken,
    organizationId: r.body.organization.id,
    userId: r.body.user.id,
    email,
    password,
  };
}
