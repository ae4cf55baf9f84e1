import { randomBytes } from 'node:crypto';
import { generateKey, parseKeyring, SecretBox } from '@aiops/core';
import { type Database, openDb, queryRows, type TenantScope } from '@aiops/db';
import { type FakeProviderServer, startFakeOpenAI, testBackend } from '@aiops/testing';
import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildApp } from '../../app.ts';
import { call, type SignedUp, signUp, startTestServer, type TestServer } from '../../test-support.ts';

/**
 * The gateway's routing comes from each process's model-config cache (integrations, aliases, settings):
 * no query before the provider call once warm, and a change made through another app instance is obeyed
 * at once (NOTIFY, well within the cache's 10-s bound). On PostgreSQL the other instance has its own
 * database handle (pool, LISTEN connection, cache), as another process would; on in-memory PGlite it
 * shares the one handle. A revoked key is refused by both.
 */
const KEY = 'sk-gateway-cache-000000000000000abcd';
const secrets = new SecretBox(parseKeyring(`test:${generateKey()}`));
/** Both instances sign and check the same access tokens, as the processes of one deployment do. */
const jwtSecret = randomBytes(32);
let a: TestServer;
let b: { app: FastifyInstance; url: string; db: Database; own: boolean };
let first: FakeProviderServer;
let second: FakeProviderServer;
let owner: SignedUp;
let gatewayKey: string;
let integrationId: string;

const viaB = (method: string, path: string, body?: unknown) =>
  call({ request: (p, init) => fetch(`${b.url}${p}`, init) }, method, `/api/v1${path}`, {
    token: owner.token,
    ...(body === undefined ? {} : { body }),
  });
const clientOf = (url: string, apiKey = gatewayKey) =>
  new OpenAI({ apiKey, baseURL: `${url}/v1`, maxRetries: 0 });
const ask = (url: string, apiKey?: string) =>
  clientOf(url, apiKey).chat.completions.create({
    model: 'openai:gpt-4o-mini',
    messages: [{ role: 'user', content: 'Where is my order?' }],
  });
/** Within 5 s: half the cache's bound, so only the change's notification can explain it. */
const soon = <T>(check: () => Promise<T>) => vi.waitFor(check, { timeout: 5_000, interval: 25 });

beforeAll(async () => {
  first = await startFakeOpenAI('openai', { apiKey: KEY });
  second = await startFakeOpenAI('openai', { apiKey: KEY });
  first.replyByDefault({ kind: 'text', text: 'From the first.', usage: { input: 5, output: 3 } });
  second.replyByDefault({ kind: 'text', text: 'From the second.', usage: { input: 5, output: 3 } });
  a = await startTestServer({ secrets, settings: { jwtSecret } });
  const url = a.database.url;
  const db = url ? await openDb({ kind: 'postgres', url, poolSize: 3, migrate: false }) : a.database.db;
  const app = await buildApp({ db, secrets, logLevel: 'warn', settings: { jwtSecret } });
  b = { app, url: await app.listen({ host: '127.0.0.1', port: 0 }), db, own: db !== a.database.db };
  owner = await signUp(a);
  expect((await viaB('PATCH', '/organization', { settings: { allowPrivateNetworks: true } })).status).toBe(
    200,
  );
  const created = await viaB('POST', '/integrations', {
    name: 'OpenAI',
    provider: 'openai',
    config: { baseUrl: first.baseUrl },
    credentials: { apiKey: KEY },
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  integrationId = created.body.id;
  const k = await viaB('POST', '/api-keys', { name: 'gw', scopes: ['gateway'], rateLimit: 1000 });
  expect(k.status).toBe(201);
  gatewayKey = k.body.key;
});
afterAll(async () => {
  await b?.app.close();
  if (b?.own) await b.db.close();
  await a?.close();
  await first?.close();
  await second?.close();
});

describe(`the gateway's model-config cache on ${testBackend()}`, () => {
  it('once warm, a call reads nothing before the provider call; with a budget, only the month’s spend', async () => {
    expect((await ask(a.url)).choices[0]!.message.content).toBe('From the first.');
    // transactions other than the call's bookkeeping (records.ts commits asynchronously)
    const reads: unknown[] = [];
    const db = a.database.db;
    const withTenant = db.withTenant.bind(db);
    const spy = vi.spyOn(db, 'withTenant').mockImplementation((scope, fn) => {
      if (!(scope as TenantScope).asyncCommit) reads.push(scope);
      return withTenant(scope, fn);
    });
    // a notification of the setup's changes may still drop the cache once
    const readsOfOneCall = async () => {
      reads.length = 0;
      await ask(a.url);
      return reads.length;
    };
    try {
      await soon(async () => expect(await readsOfOneCall()).toBe(0));
      expect(
        (
          await call(a, 'PATCH', '/api/v1/organization', {
            token: owner.token,
            body: { settings: { monthlyBudgetUsd: 1000 } },
          })
        ).status,
      ).toBe(200);
      await soon(async () => expect(await readsOfOneCall()).toBe(1));
    } finally {
      spy.mockRestore();
    }
  });

  it('a change made through another instance is obeyed by this one at once', async () => {
    await ask(a.url);
    const before = second.exchanges.length;
    expect(
      (await viaB('PATCH', `/integrations/${integrationId}`, { config: { baseUrl: second.baseUrl } })).status,
    ).toBe(200);
    await soon(async () => expect((await ask(a.url)).choices[0]!.message.content).toBe('From the second.'));
    expect(second.exchanges.length).toBeGreaterThan(before);

    // a budget set elsewhere refuses here, without calling the provider
    const [row] = await a.database.db.withTenant(owner.organizationId, (tx) =>
      queryRows<{ used: string }>(
        tx,
        sql`SELECT monthly_cost_used::text AS used FROM organizations WHERE id = ${owner.organizationId}`,
      ),
    );
    const spent = Number(row!.used);
    expect(spent).toBeGreaterThan(0);
    expect((await viaB('PATCH', '/organization', { settings: { monthlyBudgetUsd: spent } })).status).toBe(
      200,
    );
    await soon(async () => {
      const e = await ask(a.url).catch((err: unknown) => err);
      expect(e).toBeInstanceOf(OpenAI.RateLimitError);
      expect((e as InstanceType<typeof OpenAI.RateLimitError>).code).toBe('budget_exceeded');
    });
    expect(
      (await viaB('PATCH', '/organization', { settings: { monthlyBudgetUsd: spent + 1000 } })).status,
    ).toBe(200);
    await soon(async () => expect((await ask(a.url)).choices[0]!.message.content).toBe('From the second.'));

    // an integration deleted elsewhere is no longer used here
    expect((await viaB('DELETE', `/integrations/${integrationId}`)).status).toBeLessThan(300);
    const calls = second.exchanges.length;
    await soon(async () => {
      const e = await ask(a.url).catch((err: unknown) => err);
      expect(e).toBeInstanceOf(OpenAI.APIError);
      expect((e as InstanceType<typeof OpenAI.APIError>).code).toBe('provider_auth_failed');
    });
    expect(second.exchanges.length).toBe(calls);
  });

  it('a key revoked through another instance is refused by this one', async () => {
    const k = await viaB('POST', '/api-keys', { name: 'short-lived', scopes: ['gateway'] });
    const models = () => clientOf(a.url, k.body.key).models.list();
    expect((await models()).object).toBe('list');
    const revoked = await viaB('DELETE', `/api-keys/${k.body.apiKey.id}`);
    expect(revoked.status, JSON.stringify(revoked.body)).toBe(200);
    await soon(async () =>
      expect(await models().catch((e: unknown) => e)).toBeInstanceOf(OpenAI.AuthenticationError),
    );
  });
});
