import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { AppError, type ModelRequest, type ModelTool } from '@aiops/core';
import { type FakeProviderServer, startFakeOpenAI } from '@aiops/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InMemoryResponseCache } from './cache.ts';
import { EXCERPT_CHARS } from './errors.ts';
import type { ResolvedIntegration } from './language-models.ts';
import { createModelPort } from './model-port.ts';
import { outboundPolicy } from './net/address.ts';
import { PRICE_CATALOG } from './pricing/catalog.ts';
import { picoToDecimal, picoUsdPerToken } from './pricing/decimal.ts';
import type { ModelPrice } from './pricing/price.ts';

/** The fake provider listens on 127.0.0.1: an organization that allows private networks. */
const LOCAL = outboundPolicy({ allowPrivateNetworks: true });

const ORG = '00000000-0000-0000-0000-0000000000bb';
const OTHER_ORG = '00000000-0000-0000-0000-0000000000cc';

let server: FakeProviderServer;
beforeAll(async () => {
  server = await startFakeOpenAI('openai');
});
afterAll(() => server.close());

const integration = (provider: string): ResolvedIntegration => ({
  provider,
  apiKey: 'sk-test-key-000000000000',
  baseUrl: server.baseUrl,
  config: {},
  network: LOCAL,
});

const request = (over: Partial<ModelRequest> = {}): ModelRequest => ({
  model: 'openai:gpt-4o-mini',
  prompt: 'Say hello.',
  attempt: 1,
  idempotencyKey: 'run:step:1',
  organizationId: ORG,
  signal: new AbortController().signal,
  ...over,
});

async function rejection(p: Promise<unknown>): Promise<AppError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(AppError);
  return e as AppError;
}

describe('createModelPort routing and credentials', () => {
  it('routes simulator models to the simulator, priced by an organization override when there is one', async () => {
    const override: ModelPrice = {
      model: 'simulator:echo',
      effectiveFrom: '2020-01-01',
      input: '2',
      output: '3',
    };
    const port = createModelPort({
      resolveIntegration: () => undefined,
      priceOverrides: (org) => (org === ORG ? [override] : []),
    });
    const before = server.exchanges.length;
    const priced = await port.call(request({ model: 'simulator:echo', prompt: 'ping pong' }));
    expect(server.exchanges.length).toBe(before);
    const { inputTokens, outputTokens } = priced.usage;
    const pico = BigInt(inputTokens) * picoUsdPerToken('2') + BigInt(outputTokens) * picoUsdPerToken('3');
    expect(priced.costUsdDecimal).toBe(picoToDecimal(pico));
    expect(priced.priced).toBe(true);
    const free = await port.call(
      request({ model: 'simulator:echo', prompt: 'ping pong', organizationId: OTHER_ORG }),
    );
    expect(free.costUsd).toBe(0);
    expect(free.priced).toBe(true); // the catalog prices the simulator at zero
  });

  it('says model_not_found for an unknown provider or a malformed id', async () => {
    const port = createModelPort({ resolveIntegration: integration.bind(null, 'openai') });
    const unknown = await rejection(port.call(request({ model: 'nope:model' })));
    expect(unknown.code).toBe('model_not_found');
    expect(unknown.message).toMatch(/unknown provider "nope" in nope:model \(known: simulator, openai, /);
    expect((await rejection(port.call(request({ model: 'gpt-4o' })))).code).toBe('model_not_found');
  });

  it('fails auth without calling when the organization has no integration or no key', async () => {
    const before = server.exchanges.length;
    const none = createModelPort({ resolveIntegration: () => undefined });
    const e = await rejection(none.call(request()));
    expect(e.code).toBe('provider_auth_failed');
    expect(e.retryable).toBe(false);
    const keyless = createModelPort({ resolveIntegration: () => ({ provider: 'openai', config: {} }) });
    expect((await rejection(keyless.call(request()))).code).toBe('provider_auth_failed');
    expect(server.exchanges.length).toBe(before);
  });

  it('passes organization, integration id and provider to the resolver', async () => {
    const seen: unknown[] = [];
    const port = createModelPort({
      resolveIntegration: (org, id, provider) => {
        seen.push([org, id, provider]);
        return integration(provider);
      },
    });
    server.reply({ kind: 'text', text: 'hi', usage: { input: 5, output: 1 } });
    await port.call(request({ integrationId: 'int-1' }));
    expect(seen).toEqual([[ORG, 'int-1', 'openai']]);
    expect(server.exchanges.at(-1)!.request.headers.authorization).toBe('Bearer sk-test-key-000000000000');
  });

  it('prices an unknown OpenAI-compatible model as unpriced (cost unknown, not zero), or by an override', async () => {
    const port = createModelPort({
      resolveIntegration: (_o, _i, provider) => ({
        provider,
        baseUrl: server.baseUrl,
        config: {},
        network: LOCAL,
      }),
      priceOverrides: () => [
        { model: 'openai-compatible:my-vllm', effectiveFrom: '2024-01-01', input: '0.1', output: '0.2' },
      ],
    });
    server.reply(
      { kind: 'text', text: 'a', usage: { input: 10, output: 20 } },
      { kind: 'text', text: 'b', usage: { input: 10, output: 20 } },
    );
    const unpriced = await port.call(request({ model: 'openai-compatible:other-model' }));
    expect(unpriced.priced).toBe(false);
    expect(unpriced.costUsd).toBe(0);
    const priced = await port.call(request({ model: 'openai-compatible:my-vllm' }));
    expect(priced.costUsdDecimal).toBe(
      picoToDecimal(10n * picoUsdPerToken('0.1') + 20n * picoUsdPerToken('0.2')),
    );
  });

  it('rejects promptly with the abort reason when the caller aborts a slow provider call', async () => {
    const port = createModelPort({ resolveIntegration: (_o, _i, p) => integration(p) });
    server.reply({ kind: 'text', text: 'late', delayMs: 3_000 });
    const ac = new AbortController();
    const started = performance.now();
    const call = port.call(request({ signal: ac.signal }));
    setTimeout(() => ac.abort(new Error('run cancelled')), 50);
    await expect(call).rejects.toThrow('run cancelled');
    expect(performance.now() - started).toBeLessThan(1_500);
  });

  it('classifies a refused connection as unavailable and retryable', async () => {
    const closed = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const port = (s.address() as { port: number }).port;
        s.close(() => resolve(port));
      });
    });
    const port = createModelPort({
      resolveIntegration: (_o, _i, provider) => ({
        provider,
        apiKey: 'sk-x-1234567890',
        baseUrl: `http://127.0.0.1:${closed}/v1`,
        config: {},
        network: LOCAL,
      }),
    });
    const e = await rejection(port.call(request()));
    expect(e.code).toBe('provider_unavailable');
    expect(e.retryable).toBe(true);
  });

  it('sends the system prompt, the history and the prompt as the last user message, in order', async () => {
    const port = createModelPort({ resolveIntegration: (_o, _i, p) => integration(p) });
    server.reply({ kind: 'text', text: 'ok', usage: { input: 50, output: 1 } });
    await port.call(
      request({
        system: 'Be brief.',
        messages: [
          { role: 'user', content: 'Find order A-17.' },
          { role: 'assistant', content: 'Looking it up.' },
          { role: 'tool', content: '{"status":"shipped"}', toolName: 'lookup', toolCallId: 'c1' },
        ],
        prompt: 'And now?',
        temperature: 0.3,
        topP: 0.9,
        maxTokens: 77,
      }),
    );
    const body = server.exchanges.at(-1)!.request.body as {
      messages: { role: string; content: string }[];
      temperature: number;
      top_p: number;
      max_tokens: number;
    };
    expect(body.messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'user', 'user']);
    expect(body.messages[0]!.content).toBe('Be brief.');
    expect(body.messages[3]!.content).toContain('{"status":"shipped"}');
    expect(body.messages[4]!.content).toBe('And now?');
    expect([body.temperature, body.top_p, body.max_tokens]).toEqual([0.3, 0.9, 77]);
  });

  it('reports a failing tool to the model and records its error', async () => {
    const port = createModelPort({ resolveIntegration: (_o, _i, p) => integration(p) });
    const broken: ModelTool = {
      name: 'broken',
      description: 'always fails',
      inputSchema: { type: 'object', properties: {} },
      execute: async () => {
        throw new Error('backend down');
      },
    };
    server.reply(
      { kind: 'tool-calls', calls: [{ name: 'broken', input: {} }], usage: { input: 30, output: 5 } },
      { kind: 'text', text: 'The tool failed.', usage: { input: 40, output: 5 } },
    );
    const r = await port.call(request({ tools: [broken] }));
    expect(r.toolCalls[0]).toMatchObject({ name: 'broken', error: 'backend down' });
    expect(JSON.stringify(server.exchanges.at(-1)!.request.body)).toContain('backend down');
  });
});

describe('response cache', () => {
  it('answers an identical request from the cache at zero cost; any difference misses', async () => {
    const cache = new InMemoryResponseCache();
    const port = createModelPort({ resolveIntegration: (_o, _i, p) => integration(p), cache });
    server.reply(
      { kind: 'text', text: 'first', usage: { input: 100, output: 10 } },
      { kind: 'text', text: 'second', usage: { input: 100, output: 10 } },
      { kind: 'text', text: 'third', usage: { input: 100, output: 10 } },
    );
    const before = server.exchanges.length;
    const a = await port.call(request({ cacheTtlMs: 60_000, temperature: 0 }));
    const b = await port.call(request({ cacheTtlMs: 60_000, temperature: 0 }));
    expect(a.cached).toBe(false);
    expect(a.costUsd).toBeGreaterThan(0);
    expect(b).toMatchObject({ text: 'first', cached: true, costUsd: 0 });
    expect(b.usage.totalTokens).toBe(0);
    const c = await port.call(request({ cacheTtlMs: 60_000, temperature: 0.5 }));
    expect(c).toMatchObject({ text: 'second', cached: false });
    const d = await port.call(request({ cacheTtlMs: 60_000, temperature: 0, organizationId: OTHER_ORG }));
    expect(d).toMatchObject({ text: 'third', cached: false });
    expect(server.exchanges.length - before).toBe(3);
  });

  it('makes the call as a miss when the cache itself fails', async () => {
    const broken = {
      get: () => Promise.reject(new Error('cache database down')),
      set: () => Promise.reject(new Error('cache database down')),
    };
    const port = createModelPort({ resolveIntegration: (_o, _i, p) => integration(p), cache: broken });
    server.reply({ kind: 'text', text: 'served anyway', usage: { input: 3, output: 2 } });
    const r = await port.call(request({ prompt: 'cache down', cacheTtlMs: 1_000 }));
    expect(r).toMatchObject({ text: 'served anyway', cached: false });
  });

  it('does not cache without cacheTtlMs, and expires entries after the TTL', async () => {
    let now = 1_000_000;
    const cache = new InMemoryResponseCache({ now: () => now });
    const port = createModelPort({ resolveIntegration: (_o, _i, p) => integration(p), cache });
    server.reply({ kind: 'text', text: 'x', usage: { input: 1, output: 1 } });
    await port.call(request({ prompt: 'uncached' }));
    expect(cache.size).toBe(0);
    server.reply(
      { kind: 'text', text: 'y', usage: { input: 1, output: 1 } },
      { kind: 'text', text: 'z', usage: { input: 1, output: 1 } },
    );
    await port.call(request({ prompt: 'ttl', cacheTtlMs: 1_000 }));
    now += 999;
    expect((await port.call(request({ prompt: 'ttl', cacheTtlMs: 1_000 }))).cached).toBe(true);
    now += 2;
    expect((await port.call(request({ prompt: 'ttl', cacheTtlMs: 1_000 }))).text).toBe('z');
  });
});

describe('price catalog', () => {
  it('prices the common models of every provider, with valid figures', () => {
    const ids = new Set(PRICE_CATALOG.models.map((m) => m.model));
    for (const id of [
      'openai:gpt-4o-mini',
      'openai:gpt-4.1',
      'openai:o3',
      'anthropic:claude-sonnet-4-5',
      'anthropic:claude-haiku-4-5',
      'google:gemini-2.5-pro',
      'google:gemini-2.5-flash',
      'xai:grok-4',
      'cohere:command-a-03-2025',
      'perplexity:sonar',
      'ollama:*',
    ])
      expect(ids.has(id), id).toBe(true);
    expect(PRICE_CATALOG.version).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });
});

describe('outbound policy and error excerpts on provider calls (issue 11, findings 1 and 4)', () => {
  it('refuses a base URL on a loopback address unless the organization allows it; the server is not reached', async () => {
    const before = server.exchanges.length;
    for (const baseUrl of [server.baseUrl, server.baseUrl.replace('127.0.0.1', 'localhost.')]) {
      const port = createModelPort({
        resolveIntegration: (_o, _i, provider) => ({
          provider,
          apiKey: 'sk-test-key-1',
          baseUrl,
          config: {},
        }),
      });
      const e = await rejection(port.call(request()));
      expect(e.code, baseUrl).toBe('provider_invalid_request');
      expect(e.retryable).toBe(false);
      expect(e.details).toMatchObject({ reason: 'address_blocked', category: 'loopback' });
    }
    expect(server.exchanges.length).toBe(before);
  });

  it('quotes a failing upstream’s body only as a short excerpt scrubbed of secrets', async () => {
    const secret = 'internal-db-password-hunter2';
    const upstream = createHttpServer((_req, res) => {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(
        `stack trace: password=${secret} token: abc123def456 Authorization: Bearer eyJhbGciOi.x.y ${'internal detail '.repeat(200)}`,
      );
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    try {
      const port = createModelPort({
        resolveIntegration: (_o, _i, provider) => ({
          provider,
          apiKey: 'sk-test-key-000000000000',
          baseUrl: `http://127.0.0.1:${(upstream.address() as { port: number }).port}/v1`,
          config: {},
          network: LOCAL,
        }),
      });
      const e = await rejection(port.call(request()));
      expect(e.code).toBe('provider_unavailable');
      expect(e.message).not.toContain(secret);
      expect(e.message).not.toContain('abc123def456');
      expect(e.message).not.toContain('eyJhbGciOi');
      const quoted = e.message.slice(e.message.indexOf(': ') + 2);
      expect(quoted.length).toBeLessThanOrEqual(EXCERPT_CHARS + 1);
    } finally {
      upstream.closeAllConnections();
      await new Promise<void>((r) => upstream.close(() => r()));
    }
  });
});
