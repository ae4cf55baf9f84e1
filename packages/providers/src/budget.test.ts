import { AppError, type ModelRequest, type ModelTool } from '@aiops/core';
import { type FakeProviderServer, startFakeOpenAI } from '@aiops/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InMemoryResponseCache } from './cache.ts';
import { retryAfterMs, scrub } from './errors.ts';
import { createModelPort } from './model-port.ts';
import { outboundPolicy } from './net/address.ts';
import { PRICE_CATALOG } from './pricing/catalog.ts';
import { picoUsdPerToken } from './pricing/decimal.ts';

/** The fake provider listens on 127.0.0.1: an organization that allows private networks. */
const LOCAL = outboundPolicy({ allowPrivateNetworks: true });

const ORG = '00000000-0000-0000-0000-0000000000dd';
let server: FakeProviderServer;
beforeAll(async () => {
  server = await startFakeOpenAI('openai');
});
afterAll(() => server.close());

const port = () =>
  createModelPort({
    resolveIntegration: (_o, _i, provider) => ({
      provider,
      apiKey: 'sk-budget-test-0000',
      baseUrl: server.baseUrl,
      config: {},
      network: LOCAL,
    }),
    priceOverrides: () => [
      { model: 'simulator:echo', effectiveFrom: '2020-01-01', input: '1000', output: '1000' },
    ],
    cache: new InMemoryResponseCache(),
  });

const request = (over: Partial<ModelRequest> = {}): ModelRequest => ({
  model: 'openai:gpt-4o-mini',
  prompt: 'Summarize the quarter in one line.',
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

const gpt4oMini = PRICE_CATALOG.models.find((m) => m.model === 'openai:gpt-4o-mini')!;
/** Exact dollars of a usage at gpt-4o-mini's catalog price, by the test's own arithmetic. */
const dollars = (input: number, output: number) => {
  const pico =
    BigInt(input) * picoUsdPerToken(gpt4oMini.input) + BigInt(output) * picoUsdPerToken(gpt4oMini.output);
  const s = pico.toString().padStart(13, '0');
  return Number(`${s.slice(0, -12)}.${s.slice(-12)}`);
};

describe('budget pre-check', () => {
  it('makes no call whose worst case could exceed the budget, and says so without retry', async () => {
    const before = server.exchanges.length;
    const e = await rejection(port().call(request({ maxTokens: 1_000, budgetUsd: 0.0001 })));
    expect(e.code).toBe('budget_exceeded');
    expect(e.status).toBe(402);
    expect(e.retryable).toBe(false);
    expect(e.details?.worstCaseUsd as number).toBeGreaterThan(0.0001);
    expect(e.message).toMatch(/not made/);
    expect(server.exchanges.length).toBe(before);
  });

  it('makes a call that fits, sending the default output cap when the request names none', async () => {
    server.reply({ kind: 'text', text: 'Up 4%.', usage: { input: 20, output: 4 } });
    const r = await port().call(request({ budgetUsd: 0.01 }));
    expect(r.text).toBe('Up 4%.');
    expect(server.exchanges.at(-1)!.request.body.max_tokens).toBe(4096);
    expect(r.costUsd).toBe(dollars(20, 4));
    expect(r.costUsd).toBeLessThanOrEqual(0.01);
  });

  it('stops a tool loop before a step that could exceed the budget; the spend so far is reported', async () => {
    const calls: unknown[] = [];
    const search: ModelTool = {
      name: 'search',
      description: 'Searches the archive',
      inputSchema: { type: 'object', properties: { q: { type: 'string' } } },
      execute: async (input) => {
        calls.push(input);
        return { hits: 3 };
      },
    };
    const before = server.exchanges.length;
    server.reply(
      {
        kind: 'tool-calls',
        calls: [{ name: 'search', input: { q: 'q3' } }],
        usage: { input: 100_000, output: 50 },
      },
      { kind: 'text', text: 'never reached', usage: { input: 100_100, output: 50 } },
    );
    const budgetUsd = 0.02;
    const e = await rejection(
      port().call(request({ tools: [search], maxSteps: 5, maxTokens: 100, budgetUsd })),
    );
    expect(e.code).toBe('budget_exceeded');
    expect(server.exchanges.length - before).toBe(1);
    expect(calls).toEqual([{ q: 'q3' }]);
    expect(e.details?.spentUsd).toBe(dollars(100_000, 50));
    expect(e.details?.spentUsd as number).toBeLessThanOrEqual(budgetUsd);
    expect(e.details?.usage).toMatchObject({ inputTokens: 100_000, outputTokens: 50 });
    // the reply the loop never asked for is consumed so later tests start clean
    expect((await port().call(request())).text).toBe('never reached');
  });

  it('refuses a budgeted call to a model with no price (its cost cannot be bounded)', async () => {
    const before = server.exchanges.length;
    const e = await rejection(port().call(request({ model: 'openai:some-future-model', budgetUsd: 5 })));
    expect(e.code).toBe('budget_exceeded');
    expect(e.details?.reason).toBe('unpriced');
    expect(server.exchanges.length).toBe(before);
  });

  it('applies to priced simulator models too, and never to a cached answer', async () => {
    const p = port();
    const e = await rejection(
      p.call(request({ model: 'simulator:echo', maxTokens: 10, budgetUsd: 0.000001 })),
    );
    expect(e.code).toBe('budget_exceeded');
    const warm = await p.call(request({ model: 'simulator:echo', prompt: 'cache me', cacheTtlMs: 60_000 }));
    expect(warm.costUsd).toBeGreaterThan(0);
    const hit = await p.call(
      request({ model: 'simulator:echo', prompt: 'cache me', cacheTtlMs: 60_000, budgetUsd: 0.000001 }),
    );
    expect(hit).toMatchObject({ cached: true, costUsd: 0 });
  });
});

describe('error helpers', () => {
  it('reads retry-after-ms, retry-after in seconds or as an HTTP date, and Google RetryInfo', () => {
    expect(retryAfterMs({ 'retry-after-ms': '250.5' })).toBe(251);
    expect(retryAfterMs({ 'Retry-After': '12' })).toBe(12_000);
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(retryAfterMs({ 'retry-after': 'Thu, 01 Jan 2026 00:00:30 GMT' }, undefined, now)).toBe(30_000);
    expect(retryAfterMs({}, '{"error":{"details":[{"retryDelay":"1.5s"}]}}')).toBe(1_500);
    expect(retryAfterMs({})).toBeUndefined();
  });

  it('scrubs the key and key-shaped strings from provider messages', () => {
    const key = 'my-secret-key-value-123';
    expect(scrub(`bad key ${key}`, [key])).toBe('bad key [redacted]');
    expect(scrub('Incorrect API key provided: sk-wr**********7890.', [])).not.toContain('7890');
    expect(scrub('skipped_the_long_identifier_here', [])).toBe('skipped_the_long_identifier_here');
  });
});
