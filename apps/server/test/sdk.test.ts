import {
  AiopsClient,
  AiopsNotFoundError,
  AiopsRateLimitError,
  AiopsValidationError,
  type RunEvent,
} from '@aiops/sdk';
import { testBackend } from '@aiops/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SignedUp, signUp, startTestServer, type TestServer } from '../src/test-support.ts';

let s: TestServer;
let owner: SignedUp;
let client: AiopsClient;
let workflowId: string;

const definition = (latencyMs: number, name = `sdk-${latencyMs}`) => ({
  name,
  input: { type: 'object', properties: { who: { type: 'string' } }, required: ['who'] },
  nodes: [
    {
      id: 'greet',
      type: 'agent',
      agent: { model: 'simulator:echo', prompt: 'Hello {{input.who}}', simulate: { latencyMs } },
    },
    { id: 'result', type: 'output', value: { greeting: '{{nodes.greet.output}}' } },
  ],
  connections: [{ from: 'greet', to: 'result' }],
});

beforeAll(async () => {
  s = await startTestServer({
    worker: true,
    settings: {
      rateLimits: {
        tiers: Object.fromEntries(
          ['starter', 'professional', 'business', 'enterprise'].map((t) => [
            t,
            { userPerMinute: 100_000, orgPerMinute: 100_000 },
          ]),
        ) as never,
        anonymousPerMinute: 100_000,
        // Two failed sign-ins block an account for 2 s: a real 429 with a short Retry-After.
        login: { accountFailures: 2, ipFailures: 100, windowSeconds: 60, blockSeconds: 2 },
      },
    },
  });
  owner = await signUp(s);
  client = new AiopsClient({ baseUrl: s.url, token: owner.token });
  const created = await client.call(
    client.api.POST('/api/v1/workflows', { body: { definition: definition(400), status: 'active' } }),
  );
  workflowId = created.id;
});
afterAll(() => s?.close());

describe(`@aiops/sdk against a real server on ${testBackend()}`, () => {
  it('starts a run and waits for its end: the finished run with its steps', async () => {
    const run = await client.startRunAndWait(workflowId, { input: { who: 'Ada' } }, { timeoutMs: 60_000 });
    expect(run.status).toBe('completed');
    expect(run.workflowId).toBe(workflowId);
    expect(run.output).toEqual({ greeting: 'Hello Ada' });
    expect(run.steps.map((st) => [st.nodeId, st.status])).toEqual([
      ['greet', 'completed'],
      ['result', 'completed'],
    ]);
    expect(run.tokens.total).toBe(run.steps[0]!.attempts[0]!.tokens.total);
    expect(run.tokens.total).toBeGreaterThan(0);
  });

  it('follows a run as an async iterator of its events, in order, ending after the final one', async () => {
    const run = await client.startRun(workflowId, { input: { who: 'Grace' } });
    expect(run.id).toMatch(/^[0-9a-f-]{36}$/);
    const events: RunEvent[] = [];
    for await (const e of client.runEvents(run.id)) events.push(e);
    const types = events.map((e) => (e.nodeId ? `${e.type}:${e.nodeId}` : e.type));
    expect(types[0]).toBe('run.queued');
    expect(types.at(-1)).toBe('run.completed');
    expect(types.indexOf('step.started:greet')).toBeLessThan(types.indexOf('step.completed:greet'));
    expect(types.indexOf('step.completed:greet')).toBeLessThan(types.indexOf('step.completed:result'));
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
    const done = events.find((e) => e.type === 'step.completed' && e.nodeId === 'greet')!;
    expect(done.data.output).toBe('Hello Grace');
    // The iterator of a finished run replays its events and ends.
    const again: string[] = [];
    for await (const e of client.runEvents(run.id)) again.push(e.id);
    expect(again).toEqual(events.map((e) => e.id));
  });

  it('pages through a list with the cursor until nextCursor is null', async () => {
    const names = ['page-a', 'page-b', 'page-c', 'page-d', 'page-e'];
    for (const name of names) {
      await client.call(
        client.api.POST('/api/v1/workflows', { body: { definition: definition(0, name), status: 'draft' } }),
      );
    }
    const seen: string[] = [];
    let pages = 0;
    const counting = new AiopsClient({
      baseUrl: s.url,
      token: owner.token,
      fetch: (request) => {
        if (new URL(request.url).pathname === '/api/v1/workflows') pages++;
        return fetch(request);
      },
    });
    for await (const w of counting.paginate('/api/v1/workflows', { query: { limit: 2, q: 'page-' } })) {
      seen.push(w.name);
    }
    expect(seen.sort()).toEqual(names);
    expect(pages).toBe(3);
  });

  it('retries a 429 after its Retry-After, and the typed error carries the body when retries are off', async () => {
    const email = owner.email;
    const anonymous = new AiopsClient({ baseUrl: s.url, retry: false });
    // Two failed sign-ins block the account for 2 s: the third attempt is refused with 429.
    for (let i = 0; i < 2; i++) {
      const failed = await anonymous.api.POST('/api/v1/auth/login', {
        body: { email, password: 'Wrong-Password-123!' } as never,
      });
      expect(failed.response.status).toBe(401);
    }
    const refused = await anonymous
      .call(anonymous.api.POST('/api/v1/auth/login', { body: { email, password: owner.password } as never }))
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(AiopsRateLimitError);
    const err = refused as AiopsRateLimitError;
    expect(err.status).toBe(429);
    expect(err.code).toBe('rate_limited');
    expect(err.retryable).toBe(true);
    expect(err.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(err.retryAfterSeconds).toBeLessThanOrEqual(2);
    expect(err.body).toMatchObject({
      error: { code: 'rate_limited', details: { retryAfterSeconds: err.retryAfterSeconds } },
    });
    expect(err.requestId).toMatch(/\S+/);

    // Still blocked: a retrying client waits for Retry-After and then signs in.
    const retries: number[] = [];
    const retrying = new AiopsClient({
      baseUrl: s.url,
      retry: { maxRetries: 3, onRetry: ({ waitSeconds }) => retries.push(waitSeconds) },
    });
    const started = Date.now();
    const session = await retrying.call(
      retrying.api.POST('/api/v1/auth/login', { body: { email, password: owner.password } as never }),
    );
    expect((session as { token: string }).token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(retries.length).toBeGreaterThanOrEqual(1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(retries[0]! * 1000 - 50);
  });

  it('throws typed errors with the error body: validation (each field) and not found', async () => {
    const bad = await client
      .call(
        client.api.POST('/api/v1/workflows', {
          body: { definition: { name: 'x', nodes: 'no' }, status: 'draft' },
        }),
      )
      .catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(AiopsValidationError);
    expect((bad as AiopsValidationError).status).toBe(400);
    expect((bad as AiopsValidationError).details?.issues).toEqual(
      expect.arrayContaining([expect.objectContaining({ path: 'nodes' })]),
    );
    const missing = await client.getRun('00000000-0000-4000-8000-000000000000').catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(AiopsNotFoundError);
    expect((missing as AiopsNotFoundError).code).toBe('not_found');
  });
});
