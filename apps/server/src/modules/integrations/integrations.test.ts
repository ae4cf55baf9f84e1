import { generateKey, parseKeyring, SecretBox } from '@aiops/core';
import { integrations } from '@aiops/db';
import { type FakeProviderServer, startFakeOpenAI, testBackend } from '@aiops/testing';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rotateSecrets, secretKeyStatus } from '../../key-rotation.ts';
import {
  addMember,
  call,
  type SignedUp,
  signUp,
  startTestServer,
  type TestServer,
} from '../../test-support.ts';
import { createAppModelPort } from './model-port.ts';
import { credentialsAad } from './service.ts';

const KEY = 'sk-proj-TESTSECRET0123456789abcd';
const OTHER_KEY = 'sk-proj-ROTATEDKEY9876543210wxyz';
const OLD_KEY = generateKey();
const secrets = new SecretBox(parseKeyring(`k1:${OLD_KEY}`));

let s: TestServer;
let fake: FakeProviderServer;
let owner: SignedUp;
let stranger: SignedUp;

beforeAll(async () => {
  fake = await startFakeOpenAI('openai', { apiKey: KEY });
  s = await startTestServer({ worker: true, secrets });
  owner = await signUp(s);
  stranger = await signUp(s);
});
afterAll(async () => {
  await s?.close();
  await fake?.close();
});

const allowPrivateNetworks = (orgId: string) =>
  s.database.db.system((tx) =>
    tx.execute(
      sql`UPDATE organizations SET settings = settings || '{"allowPrivateNetworks": true}'::jsonb WHERE id = ${orgId}`,
    ),
  );

const create = (token: string, body: Record<string, unknown>) =>
  call(s, 'POST', '/api/v1/integrations', { token, body });

function expectNoSecret(value: unknown) {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  for (const secret of [KEY, OTHER_KEY, 'TESTSECRET', 'ROTATEDKEY']) expect(text).not.toContain(secret);
}

describe(`integrations API on ${testBackend()}`, () => {
  let openaiId: string;

  it('refuses a base URL on a loopback address until the organization allows private networks', async () => {
    const r = await create(owner.token, {
      name: 'Local OpenAI',
      provider: 'openai',
      config: { baseUrl: fake.baseUrl },
      credentials: { apiKey: KEY },
    });
    expect(r.status).toBe(400);
    expect(r.body.error.message).toMatch(/loopback address.*allowPrivateNetworks/);
    await allowPrivateNetworks(owner.organizationId);
  });

  it('creates, lists, reads, rotates and deletes; the secret is encrypted and never shown, logged or audited', async () => {
    const c = await create(owner.token, {
      name: 'Local OpenAI',
      provider: 'openai',
      config: { baseUrl: fake.baseUrl, testModel: 'gpt-4o-mini' },
      credentials: { apiKey: KEY },
    });
    expect(c.status).toBe(201);
    expect(c.body).toMatchObject({
      name: 'Local OpenAI',
      category: 'llm_provider',
      provider: 'openai',
      status: 'pending',
      isDefault: true,
      hasCredentials: true,
      credentialHint: 'sk-…abcd',
      credentialsKeyId: 'k1',
      usage: { requests: 0, totalTokens: 0, costUsd: '0' },
      createdBy: owner.userId,
    });
    expectNoSecret(c.body);
    openaiId = c.body.id;

    const [row] = await s.database.db.system((tx) =>
      tx.select().from(integrations).where(eq(integrations.id, openaiId)),
    );
    expect(row!.credentialsEncrypted).toMatch(/^v1\.k1\./);
    expectNoSecret(row!.credentialsEncrypted);
    expect(JSON.parse(secrets.decrypt(row!.credentialsEncrypted!, credentialsAad(openaiId)))).toEqual({
      apiKey: KEY,
    });

    const list = await call(s, 'GET', '/api/v1/integrations?provider=openai', { token: owner.token });
    expect(list.status).toBe(200);
    expect(list.body.data.map((i: { id: string }) => i.id)).toEqual([openaiId]);
    const one = await call(s, 'GET', `/api/v1/integrations/${openaiId}`, { token: owner.token });
    expect(one.body).toMatchObject({ id: openaiId, credentialHint: 'sk-…abcd' });

    // Rotating the credential: a new hint, back to pending until tested.
    const rotated = await call(s, 'PATCH', `/api/v1/integrations/${openaiId}`, {
      token: owner.token,
      body: { credentials: { apiKey: OTHER_KEY } },
    });
    expect(rotated.status).toBe(200);
    expect(rotated.body).toMatchObject({ credentialHint: 'sk-…wxyz', status: 'pending' });
    const back = await call(s, 'PATCH', `/api/v1/integrations/${openaiId}`, {
      token: owner.token,
      body: { credentials: { apiKey: KEY }, name: 'OpenAI (local)' },
    });
    expect(back.body).toMatchObject({ credentialHint: 'sk-…abcd', name: 'OpenAI (local)' });

    const audit = await call(s, 'GET', '/api/v1/audit-logs?entityType=integration', { token: owner.token });
    expect(audit.body.data.map((a: { action: string }) => a.action)).toEqual(
      expect.arrayContaining(['created', 'updated']),
    );
    expectNoSecret(audit.body);
    expectNoSecret(s.logs.join('\n'));

    const temp = await create(owner.token, {
      name: 'Second OpenAI',
      provider: 'openai',
      credentials: { apiKey: OTHER_KEY },
    });
    expect(temp.body.isDefault).toBe(false);
    const del = await call(s, 'DELETE', `/api/v1/integrations/${temp.body.id}`, { token: owner.token });
    expect(del.status).toBe(200);
    const gone = await call(s, 'GET', `/api/v1/integrations/${temp.body.id}`, { token: owner.token });
    expect(gone.status).toBe(404);
  });

  it('bad input answers 4xx saying what to fix', async () => {
    const noKey = await create(owner.token, { name: 'x', provider: 'anthropic' });
    expect(noKey.status).toBe(400);
    expect(noKey.body.error.message).toMatch(/credentials\.apiKey is required for anthropic/);

    const unknown = await create(owner.token, {
      name: 'x',
      provider: 'openia',
      credentials: { apiKey: KEY },
    });
    expect(unknown.status).toBe(400);
    expect(JSON.stringify(unknown.body.error.details)).toMatch(/provider/);
    expectNoSecret(unknown.body);

    const noBase = await create(owner.token, { name: 'x', provider: 'openai-compatible' });
    expect(noBase.status).toBe(400);
    expect(noBase.body.error.message).toMatch(/config\.baseUrl is required for openai-compatible/);

    const ftp = await create(owner.token, {
      name: 'x',
      provider: 'openai',
      config: { baseUrl: 'ftp://example.com' },
      credentials: { apiKey: KEY },
    });
    expect(ftp.status).toBe(400);
    expect(JSON.stringify(ftp.body.error.details)).toMatch(/baseUrl/);

    const metadata = await create(stranger.token, {
      name: 'x',
      provider: 'openai-compatible',
      config: { baseUrl: 'http://169.254.169.254/latest' },
    });
    expect(metadata.status).toBe(400);
    expect(metadata.body.error.message).toMatch(/metadata address/);

    const dup = await create(owner.token, {
      name: 'OpenAI (local)',
      provider: 'openai',
      credentials: { apiKey: KEY },
    });
    expect(dup.status).toBe(409);
    expect(dup.body.error.message).toMatch(/exists: choose another name/);

    const short = await create(owner.token, {
      name: 'x',
      provider: 'openai',
      credentials: { apiKey: 'abc' },
    });
    expect(short.status).toBe(400);
    expectNoSecret(short.body);
  });

  it("another organization's integration answers 404, exactly like one that does not exist", async () => {
    for (const [method, path, body] of [
      ['GET', `/api/v1/integrations/${openaiId}`, undefined],
      ['PATCH', `/api/v1/integrations/${openaiId}`, { name: 'mine now' }],
      ['DELETE', `/api/v1/integrations/${openaiId}`, undefined],
      ['POST', `/api/v1/integrations/${openaiId}/test`, {}],
      ['GET', `/api/v1/integrations/${openaiId}/usage`, undefined],
    ] as const) {
      const r = await call(s, method, path, { token: stranger.token, ...(body ? { body } : {}) });
      expect(r.status, `${method} ${path}`).toBe(404);
    }
    const list = await call(s, 'GET', '/api/v1/integrations', { token: stranger.token });
    expect(list.body.data).toEqual([]);
  });

  it('the OpenAPI document describes the integration routes', async () => {
    const doc = await call(s, 'GET', '/openapi.json');
    expect(Object.keys(doc.body.paths)).toEqual(
      expect.arrayContaining([
        '/api/v1/integrations',
        '/api/v1/integrations/{id}',
        '/api/v1/integrations/{id}/test',
        '/api/v1/integrations/{id}/usage',
      ]),
    );
  });

  it('viewers may read integrations but not manage them', async () => {
    const viewer = await addMember(s, owner, 'viewer');
    expect((await call(s, 'GET', '/api/v1/integrations', { token: viewer.token })).status).toBe(200);
    const r = await create(viewer.token, { name: 'v', provider: 'openai', credentials: { apiKey: KEY } });
    expect(r.status).toBe(403);
  });

  it('test calls the provider once and sets connected; a refused key sets error with last_error, no secret', async () => {
    fake.reply({ kind: 'text', text: 'OK', usage: { input: 12, output: 1 } });
    const testedFrom = Date.now() - 5000; // the database's clock may be slightly behind
    const ok = await call(s, 'POST', `/api/v1/integrations/${openaiId}/test`, {
      token: owner.token,
      body: {},
    });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({
      ok: true,
      status: 'connected',
      model: 'openai:gpt-4o-mini',
      error: null,
    });
    expect(ok.body.integration).toMatchObject({ status: 'connected', lastError: null });
    expect(Date.parse(ok.body.integration.lastTestedAt)).toBeGreaterThanOrEqual(testedFrom);
    expect(Date.parse(ok.body.integration.connectedAt)).toBeGreaterThanOrEqual(testedFrom);
    const sent = fake.exchanges.at(-1)!.request;
    expect(sent.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(sent.body).toMatchObject({ model: 'gpt-4o-mini' });
    expect(sent.body.max_tokens ?? sent.body.max_completion_tokens).toBe(1);

    const bad = await create(owner.token, {
      name: 'Wrong key',
      provider: 'openai',
      config: { baseUrl: fake.baseUrl },
      credentials: { apiKey: OTHER_KEY },
    });
    const failed = await call(s, 'POST', `/api/v1/integrations/${bad.body.id}/test`, { token: owner.token });
    expect(failed.status, JSON.stringify(failed.body)).toBe(200);
    expect(failed.body).toMatchObject({
      ok: false,
      status: 'error',
      error: { code: 'provider_auth_failed' },
    });
    expect(failed.body.integration.lastError).toMatch(/^provider_auth_failed: /);
    expect(fake.exchanges.at(-1)!.status).toBe(401);
    expectNoSecret(failed.body);
    const stored = await call(s, 'GET', `/api/v1/integrations/${bad.body.id}`, { token: owner.token });
    expect(stored.body).toMatchObject({ status: 'error' });
    expectNoSecret(stored.body);
    const audit = await call(s, 'GET', '/api/v1/audit-logs?entityType=integration', { token: owner.token });
    expectNoSecret(audit.body);
    expectNoSecret(s.logs.join('\n'));
  });

  it('a workflow run uses the organization integrations: tokens and cost recorded, integration usage counted', async () => {
    const compat = await create(owner.token, {
      name: 'Self-hosted',
      provider: 'openai-compatible',
      config: { baseUrl: fake.baseUrl },
      credentials: { apiKey: KEY },
    });
    expect(compat.status).toBe(201);
    const before = (await call(s, 'GET', `/api/v1/integrations/${openaiId}`, { token: owner.token })).body
      .usage;

    const wf = await call(s, 'POST', '/api/v1/workflows', {
      token: owner.token,
      body: {
        name: 'through-integrations',
        definition: {
          name: 'through-integrations',
          nodes: [
            {
              id: 'classify',
              type: 'agent',
              agent: { model: 'openai:gpt-4o-mini', prompt: 'Classify: {{input.t}}' },
            },
            {
              id: 'draft',
              type: 'agent',
              agent: {
                model: 'openai-compatible:local-llama',
                integrationId: compat.body.id,
                prompt: 'Draft for {{nodes.classify.output}}',
              },
            },
            {
              id: 'echo',
              type: 'agent',
              agent: { model: 'simulator:echo', prompt: 'sim {{nodes.draft.output}}' },
            },
          ],
          connections: [
            { from: 'classify', to: 'draft' },
            { from: 'draft', to: 'echo' },
          ],
        },
      },
    });
    expect(wf.status, JSON.stringify(wf.body)).toBe(201);
    fake.reply(
      { kind: 'text', text: 'bug', usage: { input: 1000, output: 500 } },
      { kind: 'text', text: 'Sorry about that', usage: { input: 40, output: 8 } },
    );
    const run = await call(s, 'POST', `/api/v1/workflows/${wf.body.id}/runs`, {
      token: owner.token,
      body: { input: { t: 'printer on fire' }, wait: 20 },
    });
    expect(run.status, JSON.stringify(run.body)).toBe(201);
    expect(run.body).toMatchObject({ status: 'completed' });
    const detail = await call(s, 'GET', `/api/v1/runs/${run.body.id}`, { token: owner.token });
    const steps = Object.fromEntries(
      detail.body.steps.map((x: { nodeId: string; attempts: unknown[] }) => [x.nodeId, x.attempts[0]]),
    );
    expect(steps.classify).toMatchObject({
      model: 'openai:gpt-4o-mini',
      tokens: { input: 1000, output: 500 },
    });
    expect(steps.classify.cost).toBeCloseTo(0.00045, 9); // 1000 × $0.15/M + 500 × $0.60/M
    expect(steps.draft).toMatchObject({
      model: 'openai-compatible:local-llama',
      tokens: { input: 40, output: 8 },
    });
    expect(steps.echo).toMatchObject({ model: 'simulator:echo', status: 'completed' });
    expect(detail.body.tokens.input).toBeGreaterThanOrEqual(1040);
    expect(detail.body.cost).toBeCloseTo(0.00045, 9);

    const after = (await call(s, 'GET', `/api/v1/integrations/${openaiId}`, { token: owner.token })).body
      .usage;
    expect(after.requests).toBe(before.requests + 1);
    expect(after.totalTokens).toBe(before.totalTokens + 1500);
    expect(Number(after.costUsd) - Number(before.costUsd)).toBeCloseTo(0.00045, 12);
    expect(Date.parse(after.lastUsedAt)).toBeGreaterThan(Date.parse(before.lastUsedAt ?? '1970-01-01'));

    const usage = await call(s, 'GET', `/api/v1/integrations/${compat.body.id}/usage`, {
      token: owner.token,
    });
    expect(usage.status).toBe(200);
    expect(usage.body.totals).toMatchObject({
      requests: 1,
      inputTokens: 40,
      outputTokens: 8,
      totalTokens: 48,
    });
    expect(usage.body.byModel).toEqual([
      expect.objectContaining({ model: 'openai-compatible:local-llama', calls: 1, totalTokens: 48 }),
    ]);
    const openaiUsage = await call(s, 'GET', `/api/v1/integrations/${openaiId}/usage`, {
      token: owner.token,
    });
    expect(openaiUsage.body.byModel).toEqual([
      expect.objectContaining({
        model: 'openai:gpt-4o-mini',
        calls: 1,
        totalTokens: 1500,
        costUsd: '0.00045',
      }),
    ]);
  });

  it("a run cannot use another organization's integration, and says how to fix a missing one", async () => {
    const runWith = async (agent: Record<string, unknown>, name: string) => {
      const wf = await call(s, 'POST', '/api/v1/workflows', {
        token: stranger.token,
        body: {
          name,
          definition: { name, nodes: [{ id: 'a', type: 'agent', agent: { prompt: 'hi', ...agent } }] },
        },
      });
      expect(wf.status, JSON.stringify(wf.body)).toBe(201);
      const run = await call(s, 'POST', `/api/v1/workflows/${wf.body.id}/runs`, {
        token: stranger.token,
        body: { input: {}, wait: 20 },
      });
      return run.body;
    };
    const calls = fake.exchanges.length;
    const borrowed = await runWith({ model: 'openai:gpt-4o-mini', integrationId: openaiId }, 'borrow');
    expect(borrowed.status).toBe('failed');
    expect(borrowed.error).toMatchObject({ code: 'provider_auth_failed' });
    expect(borrowed.error.message).toMatch(
      new RegExp(`no openai integration ${openaiId} in this organization`),
    );
    const none = await runWith({ model: 'anthropic:claude-sonnet-4-5' }, 'none');
    expect(none.error.message).toMatch(/no anthropic integration in this organization: add one/);
    expect(fake.exchanges.length).toBe(calls); // no request reached the provider
  });

  it('a key the provider refuses during a run marks the integration error', async () => {
    const revoked = await create(owner.token, {
      name: 'Revoked',
      provider: 'openai',
      config: { baseUrl: fake.baseUrl },
      credentials: { apiKey: OTHER_KEY },
    });
    const wf = await call(s, 'POST', '/api/v1/workflows', {
      token: owner.token,
      body: {
        name: 'revoked-key',
        definition: {
          name: 'revoked-key',
          nodes: [
            {
              id: 'a',
              type: 'agent',
              agent: { model: 'openai:gpt-4o-mini', integrationId: revoked.body.id, prompt: 'hi' },
            },
          ],
        },
      },
    });
    const run = await call(s, 'POST', `/api/v1/workflows/${wf.body.id}/runs`, {
      token: owner.token,
      body: { input: {}, wait: 20 },
    });
    expect(run.body).toMatchObject({ status: 'failed', error: { code: 'provider_auth_failed' } });
    expectNoSecret(run.body);
    const after = await call(s, 'GET', `/api/v1/integrations/${revoked.body.id}`, { token: owner.token });
    expect(after.body).toMatchObject({ status: 'error', usage: { requests: 0 } });
    expect(after.body.lastError).toMatch(/^provider_auth_failed: /);
    expectNoSecret(after.body);
  });

  it('keys rotate re-encrypts credentials and MFA secrets under the new key; idempotent; all still decrypt', async () => {
    const db = s.database.db;
    await db.system((tx) =>
      tx.execute(
        sql`UPDATE users SET mfa_secret = ${secrets.encrypt('JBSWY3DPEHPK3PXP', `mfa:${owner.userId}`)} WHERE id = ${owner.userId}`,
      ),
    );
    const NEW_KEY = generateKey();
    const both = new SecretBox(parseKeyring(`k1:${OLD_KEY},k2:${NEW_KEY}`));
    expect(both.currentKeyId).toBe('k2');

    const first = await rotateSecrets(db, both);
    const creds = first.find((c) => c.kind === 'integration credentials')!;
    const mfa = first.find((c) => c.kind === 'MFA secrets')!;
    expect(creds).toMatchObject({ rotated: creds.total, failed: 0, current: 0 });
    expect(creds.total).toBeGreaterThanOrEqual(3);
    expect(mfa).toMatchObject({ total: 1, rotated: 1, failed: 0 });

    const again = await rotateSecrets(db, both);
    for (const c of again) expect(c).toMatchObject({ rotated: 0, failed: 0, current: c.total });
    const status = await secretKeyStatus(db);
    expect(status.find((k) => k.kind === 'integration credentials')!.byKeyId).toEqual({ k2: creds.total });

    // Only the new key is needed now: the credential decrypts, the key id column follows, calls still work.
    const onlyNew = new SecretBox(parseKeyring(`k2:${NEW_KEY}`));
    const [row] = await db.system((tx) =>
      tx.select().from(integrations).where(eq(integrations.id, openaiId)),
    );
    expect(row!.credentialsKeyId).toBe('k2');
    expect(JSON.parse(onlyNew.decrypt(row!.credentialsEncrypted!, credentialsAad(openaiId))).apiKey).toBe(
      KEY,
    );
    const [user] = await db
      .system((tx) => tx.execute(sql`SELECT mfa_secret FROM users WHERE id = ${owner.userId}`))
      .then((r) => (r as unknown as { rows: { mfa_secret: string }[] }).rows);
    expect(onlyNew.decrypt(user!.mfa_secret, `mfa:${owner.userId}`)).toBe('JBSWY3DPEHPK3PXP');

    fake.reply({ kind: 'text', text: 'still here', usage: { input: 5, output: 2 } });
    const port = createAppModelPort({ db, secrets: onlyNew });
    const res = await port.call({
      model: 'openai:gpt-4o-mini',
      prompt: 'hi',
      attempt: 1,
      idempotencyKey: 'after-rotation',
      organizationId: owner.organizationId,
      signal: AbortSignal.timeout(10_000),
    });
    expect(res).toMatchObject({ text: 'still here', integrationId: openaiId });

    // A ring without the old key cannot rotate what is under it: counted as failed, left unchanged.
    const stray = new SecretBox(parseKeyring(`k3:${generateKey()}`));
    await db.system((tx) =>
      tx.execute(
        sql`UPDATE users SET mfa_secret = ${stray.encrypt('X', `mfa:${owner.userId}`)} WHERE id = ${owner.userId}`,
      ),
    );
    const partial = await rotateSecrets(db, onlyNew);
    expect(partial.find((c) => c.kind === 'MFA secrets')).toMatchObject({ failed: 1, rotated: 0 });
  });
});
