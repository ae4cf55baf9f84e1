/**
 * One suite, run against every provider adapter: each against a real local HTTP server speaking that
 * provider's wire format (packages/testing/src/fake-providers). Tokens and cost are checked against the
 * usage object the server put on the wire, read the way that provider documents it, and the catalog price.
 */
import { AppError, type ModelRequest, type ModelTool } from '@aiops/core';
import {
  type FakeProviderServer,
  type FakeUsage,
  GOOGLE_RETRY_DELAY_SECONDS,
  startFakeAnthropic,
  startFakeCohere,
  startFakeGoogle,
  startFakeOpenAI,
} from '@aiops/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createModelPort } from './model-port.ts';
import { outboundPolicy } from './net/address.ts';
import { PRICE_CATALOG } from './pricing/catalog.ts';
import type { ModelPrice } from './pricing/price.ts';

/** The fake provider listens on 127.0.0.1: an organization that allows private networks. */
const LOCAL = outboundPolicy({ allowPrivateNetworks: true });

// biome-ignore lint/suspicious/noExplicitAny: wire usage objects are provider JSON
type Wire = any;
interface Expected {
  input: number;
  output: number;
  cached: number;
  reasoning: number;
  cacheWrite: number;
}

interface Adapter {
  provider: string;
  model: string;
  start: (apiKey: string) => Promise<FakeProviderServer>;
  /** The usage a reply reports, in token kinds this provider has. */
  usage: FakeUsage;
  /** The provider's wire usage read as its API reference defines it. */
  fromWire: (u: Wire) => Expected;
  tools: boolean;
  /** The provider's API may answer without usage (Anthropic's and Cohere's always carry it). */
  usageOptional: boolean;
  /** How this provider asks a client to wait after a 429, and the wait it means. */
  rateLimit: { headers: Record<string, string>; waitMs: number };
}

const none = { cached: 0, reasoning: 0, cacheWrite: 0 };
const openAIStyle = (u: Wire): Expected => ({
  input: u.prompt_tokens,
  output: u.completion_tokens,
  cached: u.prompt_tokens_details?.cached_tokens ?? 0,
  reasoning: u.completion_tokens_details?.reasoning_tokens ?? 0,
  cacheWrite: 0,
});

const ADAPTERS: Adapter[] = [
  {
    provider: 'openai',
    model: 'o4-mini',
    start: (apiKey) => startFakeOpenAI('openai', { apiKey }),
    usage: { input: 1234, output: 567, cachedInput: 200, reasoning: 64 },
    fromWire: openAIStyle,
    tools: true,
    usageOptional: true,
    rateLimit: { headers: { 'retry-after-ms': '1500', 'x-ratelimit-remaining-requests': '0' }, waitMs: 1500 },
  },
  {
    provider: 'anthropic',
    model: 'claude-sonnet-4-5',
    start: (apiKey) => startFakeAnthropic({ apiKey }),
    usage: { input: 2000, output: 400, cachedInput: 500, cacheWrite: 300 },
    fromWire: (u) => ({
      input: u.input_tokens + u.cache_read_input_tokens + u.cache_creation_input_tokens,
      output: u.output_tokens,
      cached: u.cache_read_input_tokens,
      reasoning: 0,
      cacheWrite: u.cache_creation_input_tokens,
    }),
    tools: true,
    usageOptional: false,
    rateLimit: { headers: { 'retry-after': '7' }, waitMs: 7000 },
  },
  {
    provider: 'google',
    model: 'gemini-2.5-flash',
    start: (apiKey) => startFakeGoogle({ apiKey }),
    usage: { input: 900, output: 350, cachedInput: 100, reasoning: 120 },
    fromWire: (u) => ({
      input: u.promptTokenCount,
      output: u.candidatesTokenCount + (u.thoughtsTokenCount ?? 0),
      cached: u.cachedContentTokenCount ?? 0,
      reasoning: u.thoughtsTokenCount ?? 0,
      cacheWrite: 0,
    }),
    tools: true,
    usageOptional: true,
    rateLimit: { headers: {}, waitMs: GOOGLE_RETRY_DELAY_SECONDS * 1000 },
  },
  {
    provider: 'xai',
    model: 'grok-4',
    start: (apiKey) => startFakeOpenAI('xai', { apiKey }),
    usage: { input: 800, output: 300, cachedInput: 160, reasoning: 100 },
    // xAI's completion_tokens exclude reasoning tokens, which are billed on top
    fromWire: (u) => ({
      ...openAIStyle(u),
      output: u.completion_tokens + u.completion_tokens_details.reasoning_tokens,
    }),
    tools: true,
    usageOptional: true,
    rateLimit: { headers: { 'retry-after': '2' }, waitMs: 2000 },
  },
  {
    provider: 'cohere',
    model: 'command-a-03-2025',
    start: (apiKey) => startFakeCohere({ apiKey }),
    usage: { input: 700, output: 90 },
    // billed_units is what Cohere charges; tokens also counts its prompt template
    fromWire: (u) => ({ input: u.billed_units.input_tokens, output: u.billed_units.output_tokens, ...none }),
    tools: true,
    usageOptional: false,
    rateLimit: { headers: { 'retry-after': '3' }, waitMs: 3000 },
  },
  {
    provider: 'perplexity',
    model: 'sonar',
    start: (apiKey) => startFakeOpenAI('perplexity', { apiKey }),
    usage: { input: 50, output: 200 },
    fromWire: (u) => ({ input: u.prompt_tokens, output: u.completion_tokens, ...none }),
    tools: false, // Perplexity's API has no function calling
    usageOptional: true,
    rateLimit: { headers: { 'retry-after': '1' }, waitMs: 1000 },
  },
  {
    provider: 'ollama',
    model: 'llama3.2',
    start: () => startFakeOpenAI('ollama'),
    usage: { input: 321, output: 123 },
    fromWire: (u) => ({ input: u.prompt_tokens, output: u.completion_tokens, ...none }),
    tools: true,
    usageOptional: true,
    rateLimit: { headers: { 'retry-after': '1' }, waitMs: 1000 },
  },
];

const ORG = '00000000-0000-0000-0000-0000000000aa';
const KEY = 'sk-test-0123456789abcdefghij';

/** The test's own exact arithmetic: decimal $/M strings → picodollars per token. */
const pico = (perMillion: string | undefined): bigint => {
  if (perMillion === undefined) return 0n;
  const [w, f = ''] = perMillion.split('.');
  return BigInt(w! + f.padEnd(6, '0'));
};
const picoUsd = (usd: string | undefined): bigint => {
  if (usd === undefined) return 0n;
  const [w, f = ''] = usd.split('.');
  return BigInt(w! + f.padEnd(12, '0'));
};
function expectedCostUsd(e: Expected, price: ModelPrice, requests: number): number {
  const inRate = pico(price.input);
  const cachedRate = price.cachedInput === undefined ? inRate : pico(price.cachedInput);
  const writeRate = price.cacheWrite === undefined ? inRate : pico(price.cacheWrite);
  const outRate = pico(price.output);
  const reasonRate = price.reasoning === undefined ? outRate : pico(price.reasoning);
  const total =
    BigInt(e.input - e.cached - e.cacheWrite) * inRate +
    BigInt(e.cached) * cachedRate +
    BigInt(e.cacheWrite) * writeRate +
    BigInt(e.output - e.reasoning) * outRate +
    BigInt(e.reasoning) * reasonRate +
    BigInt(requests) * picoUsd(price.perRequest);
  const s = total.toString().padStart(13, '0');
  return Number(`${s.slice(0, -12)}.${s.slice(-12)}`);
}
const sum = (list: Expected[]): Expected =>
  list.reduce((a, b) => ({
    input: a.input + b.input,
    output: a.output + b.output,
    cached: a.cached + b.cached,
    reasoning: a.reasoning + b.reasoning,
    cacheWrite: a.cacheWrite + b.cacheWrite,
  }));

async function rejection(p: Promise<unknown>): Promise<AppError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(AppError);
  return e as AppError;
}

describe.each(ADAPTERS)('$provider adapter against its wire format', (a) => {
  let server: FakeProviderServer;
  let apiKey: string | undefined = KEY;
  const modelId = `${a.provider}:${a.model}`;
  const price = PRICE_CATALOG.models.find((p) => p.model === modelId || p.model === `${a.provider}:*`)!;
  const port = createModelPort({
    resolveIntegration: (_org, _id, provider) => ({
      provider,
      apiKey,
      baseUrl: server.baseUrl,
      config: {},
      network: LOCAL,
    }),
  });
  const request = (over: Partial<ModelRequest> = {}): ModelRequest => ({
    model: modelId,
    system: 'You answer tersely.',
    prompt: 'What is the status of order A-17?',
    temperature: 0.2,
    maxTokens: 256,
    attempt: 1,
    idempotencyKey: 'run:step:1',
    organizationId: ORG,
    signal: new AbortController().signal,
    ...over,
  });
  const lastWire = () => a.fromWire(server.exchanges.at(-1)!.wireUsage);

  beforeAll(async () => {
    server = await a.start(KEY);
  });
  afterAll(() => server.close());

  it('answers text; tokens and cost equal the usage on the wire times the catalog price', async () => {
    expect(price).toBeDefined();
    server.reply({ kind: 'text', text: 'Order A-17 shipped yesterday.', usage: a.usage });
    const r = await port.call(request());
    expect(r.text).toBe('Order A-17 shipped yesterday.');
    const wire = lastWire();
    expect(r.usage).toMatchObject({
      inputTokens: wire.input,
      outputTokens: wire.output,
      cachedInputTokens: wire.cached,
      reasoningTokens: wire.reasoning,
      totalTokens: wire.input + wire.output,
      estimated: false,
    });
    expect(r.usage.cacheWriteInputTokens ?? 0).toBe(wire.cacheWrite);
    expect(r.costUsd).toBe(expectedCostUsd(wire, price, 1));
    expect(Number(r.costUsdDecimal)).toBe(r.costUsd);
    expect(r.priced).toBe(true);
    expect(r.cached).toBe(false);
    const { body, path } = server.exchanges.at(-1)!.request;
    const sent = path + JSON.stringify(body);
    expect(sent).toContain('What is the status of order A-17?');
    expect(sent).toContain('You answer tersely.');
    expect(sent).toContain(a.model);
  });

  it('streams text deltas to onToken; usage from the stream equals the wire', async () => {
    server.reply({ kind: 'text', text: 'Streaming: the order is on its way.', usage: a.usage });
    const got: string[] = [];
    const r = await port.call(request({ onToken: (d) => got.push(d) }));
    expect(server.exchanges.at(-1)!.streamed).toBe(true);
    expect(got.length).toBeGreaterThan(1);
    expect(got.join('')).toBe('Streaming: the order is on its way.');
    expect(r.text).toBe('Streaming: the order is on its way.');
    const wire = lastWire();
    expect([r.usage.inputTokens, r.usage.outputTokens]).toEqual([wire.input, wire.output]);
    expect(r.costUsd).toBe(expectedCostUsd(wire, price, 1));
  });

  it('returns structured output that matches the JSON Schema', async () => {
    const schema = {
      type: 'object',
      properties: { status: { type: 'string', enum: ['shipped', 'pending'] }, days: { type: 'integer' } },
      required: ['status', 'days'],
      additionalProperties: false,
    };
    server.reply({ kind: 'text', text: '{"status":"shipped","days":2}', usage: a.usage });
    const r = await port.call(request({ outputSchema: schema }));
    expect(r.output).toEqual({ status: 'shipped', days: 2 });
    expect(JSON.stringify(server.exchanges.at(-1)!.request.body)).toContain('"enum":["shipped","pending"]');
  });

  it('refuses an answer that does not match the schema as a retryable invalid output', async () => {
    server.reply({ kind: 'text', text: '{"status":"lost"}', usage: a.usage });
    const e = await rejection(
      port.call(request({ outputSchema: { type: 'object', properties: { status: { enum: ['shipped'] } } } })),
    );
    expect(e.code).toBe('provider_unavailable');
    expect(e.details).toMatchObject({ reason: 'invalid_output' });
  });

  const lookup: ModelTool = {
    name: 'lookup_order',
    description: 'Looks an order up by id',
    inputSchema: { type: 'object', properties: { orderId: { type: 'string' } }, required: ['orderId'] },
    execute: async () => ({ orderId: 'A-17', status: 'shipped-by-tool' }),
  };

  if (!a.tools)
    it('refuses tools up front: this provider has no function calling', async () => {
      const before = server.exchanges.length;
      const e = await rejection(port.call(request({ tools: [lookup] })));
      expect(e.code).toBe('provider_invalid_request');
      expect(e.retryable).toBe(false);
      expect(server.exchanges.length).toBe(before);
    });

  if (a.tools)
    it('runs a tool-call loop; usage and cost are the sum over both requests', async () => {
      const inputs: unknown[] = [];
      const recording: ModelTool = {
        ...lookup,
        execute: async (input, signal) => {
          inputs.push(input);
          return lookup.execute(input, signal);
        },
      };
      const before = server.exchanges.length;
      server.reply(
        { kind: 'tool-calls', calls: [{ name: 'lookup_order', input: { orderId: 'A-17' } }], usage: a.usage },
        { kind: 'text', text: 'It shipped.', usage: a.usage },
      );
      const r = await port.call(request({ tools: [recording], maxSteps: 3 }));
      expect(inputs).toEqual([{ orderId: 'A-17' }]);
      expect(r.text).toBe('It shipped.');
      expect(r.toolCalls).toHaveLength(1);
      expect(r.toolCalls[0]).toMatchObject({ name: 'lookup_order', input: { orderId: 'A-17' } });
      expect(r.toolCalls[0]!.output).toEqual({ orderId: 'A-17', status: 'shipped-by-tool' });
      const exchanges = server.exchanges.slice(before);
      expect(exchanges).toHaveLength(2);
      expect(JSON.stringify(exchanges[0]!.request.body)).toContain('lookup_order');
      expect(JSON.stringify(exchanges[1]!.request.body)).toContain('shipped-by-tool');
      const total = sum(exchanges.map((x) => a.fromWire(x.wireUsage)));
      expect([r.usage.inputTokens, r.usage.outputTokens]).toEqual([total.input, total.output]);
      expect(r.costUsd).toBe(expectedCostUsd(total, price, 2));
    });

  if (!a.usageOptional)
    it('refuses an answer without its mandatory usage as a retryable provider fault', async () => {
      server.reply({ kind: 'text', text: 'No usage in this answer.', usage: null });
      const e = await rejection(port.call(request()));
      expect(e.code).toBe('provider_unavailable');
      expect(e.retryable).toBe(true);
    });

  if (a.usageOptional)
    it('estimates usage with the tokenizer, marked estimated, when none is reported', async () => {
      server.reply({ kind: 'text', text: 'No usage in this answer.', usage: null });
      const r = await port.call(request());
      expect(server.exchanges.at(-1)!.wireUsage).toBeUndefined();
      expect(r.usage.estimated).toBe(true);
      expect(r.usage.inputTokens).toBeGreaterThan(0);
      expect(r.usage.outputTokens).toBeGreaterThan(0);
    });

  it('classifies 429 as rate limited, retryable after the delay the provider asked for', async () => {
    server.reply({ kind: 'error', status: 429, headers: a.rateLimit.headers, message: 'Rate limit reached' });
    const e = await rejection(port.call(request()));
    expect(e.code).toBe('provider_rate_limited');
    expect(e.retryable).toBe(true);
    expect(e.details?.retryAfterMs).toBe(a.rateLimit.waitMs);
  });

  it('classifies a failure of a streamed call the same way', async () => {
    server.reply({ kind: 'error', status: 429, headers: a.rateLimit.headers, message: 'Slow down' });
    const e = await rejection(port.call(request({ onToken: () => {} })));
    expect(e.code).toBe('provider_rate_limited');
    expect(e.details?.retryAfterMs).toBe(a.rateLimit.waitMs);
  });

  it('classifies 500 as unavailable and retryable', async () => {
    server.reply({ kind: 'error', status: 500, message: 'The server had an error' });
    const e = await rejection(port.call(request()));
    expect(e.code).toBe('provider_unavailable');
    expect(e.retryable).toBe(true);
  });

  if (a.provider === 'ollama')
    it('sends no key to a keyless local server', async () => {
      apiKey = undefined;
      try {
        server.reply({ kind: 'text', text: 'local', usage: a.usage });
        expect((await port.call(request())).text).toBe('local');
        expect(server.exchanges.at(-1)!.request.headers.authorization).toBeUndefined();
      } finally {
        apiKey = KEY;
      }
    });

  if (a.provider !== 'ollama')
    it('classifies a rejected key as auth failed, not retryable, without the key', async () => {
      apiKey = 'sk-wrong-key-5678901234567890';
      try {
        const e = await rejection(port.call(request()));
        expect(e.code).toBe('provider_auth_failed');
        expect(e.retryable).toBe(false);
        const everything = `${e.message} ${JSON.stringify(e.details)} ${String(e.cause ?? '')}`;
        expect(everything).not.toContain(apiKey);
        expect(everything).not.toContain('5678901234567890');
      } finally {
        apiKey = KEY;
      }
    });

  it('classifies a scripted 401 as auth failed', async () => {
    server.reply({ kind: 'error', status: 401, message: 'Unauthorized' });
    const e = await rejection(port.call(request()));
    expect(e.code).toBe('provider_auth_failed');
    expect(e.retryable).toBe(false);
  });
});
