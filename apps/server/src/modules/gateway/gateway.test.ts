import { randomUUID } from 'node:crypto';
import { queryRows } from '@aiops/db';
import {
  FAKE_EMBEDDING_DIMENSIONS,
  type FakeProviderServer,
  startFakeOpenAI,
  testBackend,
} from '@aiops/testing';
import { sql } from 'drizzle-orm';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { call, type SignedUp, signUp, startTestServer, type TestServer } from '../../test-support.ts';
import { type GatewayCall, newTraceId, Recorder } from './records.ts';

/**
 * The OpenAI-compatible gateway through the official `openai` client, against local servers that speak
 * OpenAI's wire format: answers, streaming, tools, embeddings, usage and exact cost in the ledger, traces,
 * aliases with fallbacks, the response cache, errors as the client's error classes, rate limit and budget.
 */
const KEY = 'sk-gateway-00000000000000000000abcd';
let s: TestServer;
let fake: FakeProviderServer;
let broken: FakeProviderServer;
let owner: SignedUp;
let client: OpenAI;
let gatewayKey: string;
let integrationId: string;
let brokenId: string;

const api = (method: string, path: string, body?: unknown) =>
  call(s, method, `/api/v1${path}`, { token: owner.token, ...(body === undefined ? {} : { body }) });

async function key(scopes: string[], rateLimit = 1000): Promise<string> {
  const r = await api('POST', '/api-keys', { name: `k-${scopes.join('-')}-${rateLimit}`, scopes, rateLimit });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body.key as string;
}
const clientFor = (apiKey: string) => new OpenAI({ apiKey, baseURL: `${s.url}/v1`, maxRetries: 0 });

function rows<T>(query: ReturnType<typeof sql>): Promise<T[]> {
  return s.database.db.withTenant(owner.organizationId, (tx) => queryRows<T>(tx, query));
}
type Usage = {
  model: string;
  input_tokens: string;
  output_tokens: string;
  quantity: string;
  total_cost: string;
  api_key_id: string;
  details: Record<string, unknown>;
};
/**
 * A call's records: a successful call is answered first and recorded right after (records.ts), so its
 * rows appear within moments of the answer (usage and spans in one transaction).
 */
const recorded = <T>(read: () => Promise<T | undefined>) =>
  vi.waitFor(
    async () => {
      const found = await read();
      if (found === undefined) throw new Error('the call is not recorded yet');
      return found;
    },
    { timeout: 10_000, interval: 20 },
  );
const usageOf = (traceId: string) =>
  recorded(
    async () =>
      (
        await rows<Usage>(
          sql`SELECT model, input_tokens::text, output_tokens::text, quantity::text, total_cost::text, api_key_id::text,
                     details FROM usage_records WHERE resource_type = 'gateway_call' AND details->>'traceId' = ${traceId}`,
        )
      )[0],
  );
const spansOf = (traceId: string) =>
  recorded(async () => {
    const found = await rows<{
      kind: string;
      status: string;
      model: string | null;
      parent: string | null;
      status_message: string | null;
    }>(
      sql`SELECT kind, status, model, parent_span_id AS parent, status_message FROM spans
          WHERE trace_id = ${traceId} ORDER BY parent_span_id IS NOT NULL, start_time`,
    );
    return found.length ? found : undefined;
  });

// gpt-4o-mini: $0.15 per million input tokens, $0.60 per million output tokens (the shipped catalog)
const miniCost = (input: number, output: number) => ((input * 0.15 + output * 0.6) / 1e6).toFixed(6);

beforeAll(async () => {
  fake = await startFakeOpenAI('openai', { apiKey: KEY });
  broken = await startFakeOpenAI('openai', { apiKey: KEY });
  s = await startTestServer();
  owner = await signUp(s);
  expect((await api('PATCH', '/organization', { settings: { allowPrivateNetworks: true } })).status).toBe(
    200,
  );
  const good = await api('POST', '/integrations', {
    name: 'OpenAI',
    provider: 'openai',
    config: { baseUrl: fake.baseUrl },
    credentials: { apiKey: KEY },
  });
  expect(good.status, JSON.stringify(good.body)).toBe(201);
  integrationId = good.body.id;
  const bad = await api('POST', '/integrations', {
    name: 'OpenAI (flaky region)',
    provider: 'openai',
    config: { baseUrl: broken.baseUrl },
    credentials: { apiKey: KEY },
  });
  expect(bad.status, JSON.stringify(bad.body)).toBe(201);
  brokenId = bad.body.id;
  gatewayKey = await key(['gateway']);
  client = clientFor(gatewayKey);
});
afterAll(async () => {
  await s?.close();
  await fake?.close();
  await broken?.close();
});

describe(`the OpenAI-compatible gateway on ${testBackend()}`, () => {
  it('answers a chat completion and records its tokens, exact cost and trace', async () => {
    fake.reply({ kind: 'text', text: 'Paris.', usage: { input: 21, output: 3 } });
    const { data, response } = await client.chat.completions
      .create({
        model: 'openai:gpt-4o-mini',
        messages: [
          { role: 'system', content: 'Answer in one word.' },
          { role: 'user', content: 'Capital of France?' },
        ],
        temperature: 0.2,
      })
      .withResponse();
    expect(data.object).toBe('chat.completion');
    expect(data.id).toMatch(/^chatcmpl-[0-9a-f]{32}$/);
    expect(data.model).toBe('openai:gpt-4o-mini');
    expect(data.choices[0]!.message.content).toBe('Paris.');
    expect(data.choices[0]!.finish_reason).toBe('stop');
    expect(data.usage).toMatchObject({ prompt_tokens: 21, completion_tokens: 3, total_tokens: 24 });
    const sent = fake.exchanges.at(-1)!.request.body;
    expect(sent.model).toBe('gpt-4o-mini');
    expect(sent.temperature).toBe(0.2);
    expect(sent.messages).toEqual([
      { role: 'system', content: 'Answer in one word.' },
      { role: 'user', content: 'Capital of France?' },
    ]);

    const traceId = response.headers.get('x-aiops-trace-id')!;
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    const usage = await usageOf(traceId);
    expect(usage).toMatchObject({
      model: 'openai:gpt-4o-mini',
      input_tokens: '21',
      output_tokens: '3',
      quantity: '24',
      total_cost: miniCost(21, 3),
    });
    expect(usage!.details).toMatchObject({
      integrationId,
      cachedResponse: false,
      requestedModel: 'openai:gpt-4o-mini',
    });
    const keys = await api('GET', '/api-keys');
    expect(usage!.api_key_id).toBe(
      keys.body.data.find((k: { prefix: string }) => gatewayKey.startsWith(k.prefix)).id,
    );
    const spans = await spansOf(traceId);
    expect(spans.map((x) => [x.kind, x.status, x.model])).toEqual([
      ['gateway', 'ok', 'openai:gpt-4o-mini'],
      ['model', 'ok', 'openai:gpt-4o-mini'],
    ]);
    // the integration counts the call too
    const counted = await api('GET', `/integrations/${integrationId}/usage`);
    expect(JSON.stringify(counted.body)).toContain('24');
  });

  it('writes the calls answered together in one transaction, each call fully recorded', async () => {
    const counters = async () =>
      (
        await rows<{ requests: string; tokens: string; cost: string; spent: string }>(
          sql`SELECT total_requests::text AS requests, total_tokens::text AS tokens, total_cost::text AS cost,
                     (SELECT monthly_cost_used::text FROM organizations WHERE id = ${owner.organizationId}) AS spent
              FROM integrations WHERE id = ${integrationId}`,
        )
      )[0]!;
    const before = await counters();
    // Prices give costs finer than the ledger's six decimals: these three cost $0.0000225, $0.0000255 and
    // $0.0000285 (input 110, 130, 150 tokens and output 10). Each ledger row holds its cost rounded
    // (0.000023, 0.000026, 0.000029); the month's spend must grow by their sum (0.000078), not by the
    // rounded sum of the exact costs (0.000077), or the budget and the invoice disagree.
    const input = (i: number) => 110 + 20 * i;
    const exact = (i: number) => ((input(i) * 15 + 10 * 60) / 1e8).toFixed(8);
    const ledger = (i: number) => (Math.round((input(i) * 15 + 10 * 60) / 100) / 1e6).toFixed(6);
    const result = (i: number) => ({
      text: `answer ${i}`,
      model: 'openai:gpt-4o-mini',
      usage: {
        inputTokens: input(i),
        outputTokens: 10,
        cachedInputTokens: 0,
        reasoningTokens: 0,
        totalTokens: input(i) + 10,
        estimated: false,
      },
      costUsd: Number(exact(i)),
      costUsdDecimal: exact(i),
      finishReason: 'stop',
      toolCalls: [],
      cached: false,
      priced: true,
      integrationId,
    });
    const calls: GatewayCall[] = [0, 1, 2].map((i) => ({
      id: randomUUID(),
      traceId: newTraceId(),
      organizationId: owner.organizationId,
      apiKeyId: null,
      requested: 'openai:gpt-4o-mini',
      kind: 'chat',
      startedAt: new Date(),
      attempts: [
        {
          model: 'openai:gpt-4o-mini',
          integrationId,
          startedAt: new Date(),
          endedAt: new Date(),
          result: result(i),
        },
      ],
      streamed: false,
    }));
    const db = s.database.db;
    const withTenant = db.withTenant.bind(db);
    let transactions = 0;
    const spy = vi.spyOn(db, 'withTenant').mockImplementation((scope, fn) => {
      transactions += 1;
      return withTenant(scope, fn);
    });
    const errors: unknown[] = [];
    const recorder = new Recorder(db, (err) => errors.push(err));
    try {
      await Promise.all(calls.map((c) => recorder.record(c, new Date())));
    } finally {
      spy.mockRestore();
    }
    expect(errors).toEqual([]);
    expect(transactions).toBe(1);
    for (const [i, c] of calls.entries()) {
      expect(await usageOf(c.traceId)).toMatchObject({
        quantity: String(input(i) + 10),
        total_cost: ledger(i),
      });
      expect((await spansOf(c.traceId)).map((x) => x.kind)).toEqual(['gateway', 'model']);
    }
    const after = await counters();
    const sum = (of: (i: number) => string) => [0, 1, 2].reduce((total, i) => total + Number(of(i)), 0);
    expect(Number(after.requests) - Number(before.requests)).toBe(3);
    expect(Number(after.tokens) - Number(before.tokens)).toBe(120 + 140 + 160);
    // the integration's counter keeps exact costs (twelve decimals); the month's spend is the ledger's
    expect(Number(after.cost) - Number(before.cost)).toBeCloseTo(sum(exact), 12);
    expect(Number(after.spent) - Number(before.spent)).toBeCloseTo(sum(ledger), 9);
    expect(sum(ledger)).toBeGreaterThan(sum(exact) + 1e-6);
  });

  it('streams chat.completion.chunk events with the usage last', async () => {
    fake.reply({ kind: 'text', text: 'One, two, three.', usage: { input: 9, output: 6 } });
    const stream = await client.chat.completions.create({
      model: 'openai:gpt-4o-mini',
      messages: [{ role: 'user', content: 'Count to three' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
    for await (const c of stream) {
      chunks.push(c);
      text += c.choices[0]?.delta.content ?? '';
    }
    expect(text).toBe('One, two, three.');
    expect(chunks.length).toBeGreaterThan(3);
    expect(chunks.every((c) => c.object === 'chat.completion.chunk' && c.id === chunks[0]!.id)).toBe(true);
    expect(chunks.at(-2)!.choices[0]!.finish_reason).toBe('stop');
    expect(chunks.at(-1)!.choices).toEqual([]);
    expect(chunks.at(-1)!.usage).toMatchObject({ prompt_tokens: 9, completion_tokens: 6, total_tokens: 15 });
    expect(fake.exchanges.at(-1)!.streamed).toBe(true);
  });

  it('passes tools through: the model asks, the client runs the tool and sends its result back', async () => {
    const tools: OpenAI.Chat.Completions.ChatCompletionTool[] = [
      {
        type: 'function',
        function: {
          name: 'get_weather',
          description: 'Weather in a city',
          parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
        },
      },
    ];
    fake.reply({
      kind: 'tool-calls',
      calls: [{ id: 'call_w1', name: 'get_weather', input: { city: 'Oslo' } }],
      usage: { input: 40, output: 10 },
    });
    const first = await client.chat.completions.create({
      model: 'openai:gpt-4o-mini',
      messages: [{ role: 'user', content: 'Weather in Oslo?' }],
      tools,
    });
    expect(first.choices[0]!.finish_reason).toBe('tool_calls');
    expect(first.choices[0]!.message.tool_calls).toEqual([
      { id: 'call_w1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } },
    ]);
    const offered = fake.exchanges.at(-1)!.request.body.tools as { function: { name: string } }[];
    expect(offered.map((t) => t.function.name)).toEqual(['get_weather']);

    fake.reply({ kind: 'text', text: 'It is 4 °C in Oslo.', usage: { input: 60, output: 8 } });
    const second = await client.chat.completions.create({
      model: 'openai:gpt-4o-mini',
      messages: [
        { role: 'user', content: 'Weather in Oslo?' },
        first.choices[0]!.message as OpenAI.Chat.Completions.ChatCompletionMessageParam,
        { role: 'tool', tool_call_id: 'call_w1', content: '{"tempC":4}' },
      ],
      tools,
    });
    expect(second.choices[0]!.message.content).toBe('It is 4 °C in Oslo.');
    const history = fake.exchanges.at(-1)!.request.body.messages as Record<string, unknown>[];
    expect(history[1]).toMatchObject({
      role: 'assistant',
      tool_calls: [
        { id: 'call_w1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } },
      ],
    });
    expect(history[2]).toEqual({ role: 'tool', tool_call_id: 'call_w1', content: '{"tempC":4}' });

    // streamed, a tool call arrives as tool_calls deltas
    fake.reply({
      kind: 'tool-calls',
      calls: [{ id: 'call_w2', name: 'get_weather', input: { city: 'Rome' } }],
    });
    const stream = await client.chat.completions.create({
      model: 'openai:gpt-4o-mini',
      messages: [{ role: 'user', content: 'Weather in Rome?' }],
      tools,
      stream: true,
    });
    const calls: { id?: string; name?: string; args: string }[] = [];
    let finish: string | null = null;
    for await (const c of stream) {
      for (const d of c.choices[0]?.delta.tool_calls ?? []) {
        calls[d.index] ??= { args: '' };
        if (d.id) calls[d.index]!.id = d.id;
        if (d.function?.name) calls[d.index]!.name = d.function.name;
        calls[d.index]!.args += d.function?.arguments ?? '';
      }
      finish = c.choices[0]?.finish_reason ?? finish;
    }
    expect(calls).toEqual([{ id: 'call_w2', name: 'get_weather', args: '{"city":"Rome"}' }]);
    expect(finish).toBe('tool_calls');
  });

  it('answers embeddings (base64 by default in the client, floats on request) and records their tokens', async () => {
    const direct = await fetch(`${fake.baseUrl}/embeddings`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'text-embedding-3-small', input: ['hello world', 'bonjour'] }),
    }).then(
      (r) => r.json() as Promise<{ data: { embedding: number[] }[]; usage: { prompt_tokens: number } }>,
    );
    const { data, response } = await client.embeddings
      .create({ model: 'openai:text-embedding-3-small', input: ['hello world', 'bonjour'] })
      .withResponse();
    expect(data.data).toHaveLength(2);
    for (const [i, e] of data.data.entries()) {
      expect(e.index).toBe(i);
      expect(e.embedding).toHaveLength(FAKE_EMBEDDING_DIMENSIONS);
      for (const [j, x] of e.embedding.entries()) expect(x).toBeCloseTo(direct.data[i]!.embedding[j]!, 6);
    }
    expect(data.usage).toEqual({
      prompt_tokens: direct.usage.prompt_tokens,
      total_tokens: direct.usage.prompt_tokens,
    });
    const floats = await client.embeddings.create({
      model: 'openai:text-embedding-3-small',
      input: 'hello world',
      encoding_format: 'float',
    });
    expect(floats.data[0]!.embedding).toEqual(direct.data[0]!.embedding);
    const usage = await usageOf(response.headers.get('x-aiops-trace-id')!);
    expect(usage).toMatchObject({
      model: 'openai:text-embedding-3-small',
      input_tokens: String(direct.usage.prompt_tokens),
      output_tokens: '0',
    });
    expect(usage!.details).toMatchObject({ kind: 'embeddings' });
  });

  it('routes an alias through its targets in order, falling back when one fails', async () => {
    const alias = await api('POST', '/model-aliases', {
      alias: 'smart',
      targets: [
        { model: 'openai:gpt-4o-mini', integrationId: brokenId },
        { model: 'openai:gpt-4o-mini', integrationId },
      ],
    });
    expect(alias.status, JSON.stringify(alias.body)).toBe(201);
    expect(
      (await api('POST', '/model-aliases', { alias: 'smart', targets: [{ model: 'openai:gpt-4o' }] })).status,
    ).toBe(409);
    const wrong = await api('POST', '/model-aliases', {
      alias: 'other',
      targets: [{ model: 'anthropic:claude-haiku-4-5', integrationId }],
    });
    expect(wrong.status).toBe(400);
    expect(wrong.body.error.message).toMatch(/targets\[0\]\.integrationId is a openai integration/);

    broken.reply({ kind: 'error', status: 503, message: 'overloaded' });
    fake.reply({ kind: 'text', text: 'From the second target.', usage: { input: 5, output: 4 } });
    const { data, response } = await client.chat.completions
      .create({ model: 'smart', messages: [{ role: 'user', content: 'hi' }] })
      .withResponse();
    expect(data.choices[0]!.message.content).toBe('From the second target.');
    expect(data.model).toBe('smart');
    expect(broken.exchanges.at(-1)!.status).toBe(503);
    const traceId = response.headers.get('x-aiops-trace-id')!;
    const spans = await spansOf(traceId);
    expect(spans.map((x) => [x.kind, x.status])).toEqual([
      ['gateway', 'ok'],
      ['model', 'error'],
      ['model', 'ok'],
    ]);
    expect(spans[1]!.status_message).toMatch(/^provider_unavailable: /);
    expect((await usageOf(traceId))!.details).toMatchObject({ integrationId, attempts: 2 });

    const models = await client.models.list();
    const ids = models.data.map((m) => m.id);
    expect(ids[0]).toBe('smart');
    expect(ids).toContain('openai:gpt-4o-mini');
    expect(models.data[0]!.owned_by).toBe('organization');
  });

  it('serves a repeated request from the response cache when asked, at zero cost', async () => {
    fake.reply({ kind: 'text', text: 'Cached answer.', usage: { input: 7, output: 3 } });
    const ask = () =>
      client.chat.completions
        .create(
          { model: 'openai:gpt-4o-mini', messages: [{ role: 'user', content: 'cache me' }] },
          { headers: { 'x-aiops-cache-ttl': '60' } },
        )
        .withResponse();
    const before = fake.exchanges.length;
    const a = await ask();
    const b = await ask();
    expect(fake.exchanges.length).toBe(before + 1);
    expect(a.response.headers.get('x-aiops-cache')).toBe('miss');
    expect(b.response.headers.get('x-aiops-cache')).toBe('hit');
    expect(b.data.choices[0]!.message.content).toBe('Cached answer.');
    expect(b.data.usage).toMatchObject({ prompt_tokens: 0, completion_tokens: 0 });
    const usage = await usageOf(b.response.headers.get('x-aiops-trace-id')!);
    expect(usage).toMatchObject({ quantity: '0', total_cost: '0.000000' });
    expect(usage!.details).toMatchObject({ cachedResponse: true });
  });

  it("maps errors to the client's error classes with OpenAI's error body", async () => {
    const notFound = await client.chat.completions
      .create({ model: 'no-such-alias', messages: [{ role: 'user', content: 'x' }] })
      .catch((e: unknown) => e);
    expect(notFound).toBeInstanceOf(OpenAI.NotFoundError);
    expect((notFound as InstanceType<typeof OpenAI.NotFoundError>).code).toBe('model_not_found');
    expect((notFound as InstanceType<typeof OpenAI.NotFoundError>).type).toBe('not_found_error');

    const bad = await client.chat.completions
      .create({ model: 'openai:gpt-4o-mini', messages: [] })
      .catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(OpenAI.BadRequestError);
    expect((bad as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('messages');
    expect((bad as InstanceType<typeof OpenAI.BadRequestError>).type).toBe('invalid_request_error');

    const anon = await clientFor('aio_not-a-real-key')
      .models.list()
      .catch((e: unknown) => e);
    expect(anon).toBeInstanceOf(OpenAI.AuthenticationError);

    const readOnly = await clientFor(await key(['workflow:read']))
      .models.list()
      .catch((e: unknown) => e);
    expect(readOnly).toBeInstanceOf(OpenAI.PermissionDeniedError);
    expect((readOnly as InstanceType<typeof OpenAI.PermissionDeniedError>).message).toMatch(/"gateway"/);

    fake.reply({ kind: 'error', status: 400, message: 'context too long' });
    const provider = await client.chat.completions
      .create({ model: 'openai:gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] })
      .catch((e: unknown) => e);
    expect(provider).toBeInstanceOf(OpenAI.BadRequestError);
    expect((provider as InstanceType<typeof OpenAI.BadRequestError>).code).toBe('provider_invalid_request');
    expect((provider as Error).message).toMatch(/context too long/);
  });

  it("enforces the key's rate limit", async () => {
    const limited = clientFor(await key(['gateway'], 2));
    await limited.models.list();
    await limited.models.list();
    const refused = await limited.models.list().catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(OpenAI.RateLimitError);
    expect((refused as InstanceType<typeof OpenAI.RateLimitError>).code).toBe('rate_limited');
    expect(
      Number((refused as InstanceType<typeof OpenAI.RateLimitError>).headers.get('retry-after')),
    ).toBeGreaterThan(0);
  });

  it("refuses calls once the organization's monthly budget is spent, without calling the provider", async () => {
    const [spent] = await rows<{ used: string; ledger: string }>(
      sql`SELECT monthly_cost_used::text AS used,
                 (SELECT sum(total_cost)::text FROM usage_records WHERE resource_type = 'gateway_call') AS ledger
          FROM organizations WHERE id = ${owner.organizationId}`,
    );
    // every call above added its exact cost to the month's spend, as the ledger has it
    expect(Number(spent!.used)).toBeGreaterThan(0);
    expect(spent!.used).toBe(spent!.ledger);
    expect(
      (await api('PATCH', '/organization', { settings: { monthlyBudgetUsd: Number(spent!.used) } })).status,
    ).toBe(200);
    const before = fake.exchanges.length;
    const refused = await client.chat.completions
      .create({ model: 'openai:gpt-4o-mini', messages: [{ role: 'user', content: 'one more' }] })
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(OpenAI.RateLimitError);
    expect((refused as InstanceType<typeof OpenAI.RateLimitError>).code).toBe('budget_exceeded');
    expect((refused as InstanceType<typeof OpenAI.RateLimitError>).type).toBe('insufficient_quota');
    expect(fake.exchanges.length).toBe(before);
  });
});
