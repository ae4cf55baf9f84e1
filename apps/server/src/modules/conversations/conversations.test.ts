import { generateKey, parseKeyring, SecretBox } from '@aiops/core';
import { type FakeProviderServer, startFakeAnthropic, startFakeOpenAI, testBackend } from '@aiops/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type SignedUp, signUp, startTestServer, type TestServer } from '../../test-support.ts';

let s: TestServer;
let openai: FakeProviderServer;
let anthropic: FakeProviderServer;
let owner: SignedUp;
let openaiId: string;
let anthropicId: string;
beforeAll(async () => {
  openai = await startFakeOpenAI('openai', { apiKey: 'sk-conv-openai-0000000000001' });
  anthropic = await startFakeAnthropic({ apiKey: 'sk-ant-conv-000000000000002' });
  s = await startTestServer({ secrets: new SecretBox(parseKeyring(`k1:${generateKey()}`)) });
  owner = await signUp(s);
  expect((await api('PATCH', '/organization', { settings: { allowPrivateNetworks: true } })).status).toBe(
    200,
  );
  const o = await api('POST', '/integrations', {
    name: 'OpenAI',
    provider: 'openai',
    config: { baseUrl: openai.baseUrl },
    credentials: { apiKey: 'sk-conv-openai-0000000000001' },
  });
  expect(o.status, JSON.stringify(o.body)).toBe(201);
  openaiId = o.body.id;
  const a = await api('POST', '/integrations', {
    name: 'Anthropic',
    provider: 'anthropic',
    config: { baseUrl: anthropic.baseUrl },
    credentials: { apiKey: 'sk-ant-conv-000000000000002' },
  });
  expect(a.status, JSON.stringify(a.body)).toBe(201);
  anthropicId = a.body.id;
});
afterAll(async () => {
  await s?.close();
  await openai?.close();
  await anthropic?.close();
});

const api = (method: string, path: string, body?: unknown, token = owner.token) =>
  call(s, method, `/api/v1${path}`, { token, ...(body === undefined ? {} : { body }) });

// biome-ignore lint/suspicious/noExplicitAny: tests read loosely typed bodies
type Msg = Record<string, any>;

interface SseEvent {
  type: string;
  data: Record<string, unknown> & { participantId?: string; delta?: string };
}

async function stream(path: string, body: unknown): Promise<SseEvent[]> {
  const res = await s.request(`/api/v1${path}`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${owner.token}`,
      'content-type': 'application/json',
      accept: 'text/event-stream',
    },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
  const text = await res.text();
  return text
    .split('\n\n')
    .filter((b) => b.includes('data: '))
    .map((b) => {
      const lines = b.split('\n');
      return {
        type: lines.find((l) => l.startsWith('event: '))!.slice(7),
        data: JSON.parse(lines.find((l) => l.startsWith('data: '))!.slice(6)),
      };
    });
}

describe(`conversations on ${testBackend()}`, () => {
  it('multi: simulator, OpenAI- and Anthropic-wire models answer side by side, streamed; one failing does not stop the others', async () => {
    const c = await api('POST', '/conversations', {
      title: 'Compare',
      mode: 'multi',
      systemPrompt: 'Answer briefly.',
      context: { product: 'AI Ops Studio' },
      participants: [
        { id: 'sim', model: 'simulator:echo', simulate: { latencyMs: 40 } },
        { id: 'gpt', name: 'GPT', model: 'openai:gpt-4o-mini', integrationId: openaiId },
        { id: 'claude', name: 'Claude', model: 'anthropic:claude-haiku-4-5', integrationId: anthropicId },
        { id: 'broken', model: 'simulator:echo', simulate: { failTimes: 1, failWith: 'fatal' } },
      ],
    });
    expect(c.status, JSON.stringify(c.body)).toBe(201);
    openai.reply({ kind: 'text', text: 'OpenAI says hello there', usage: { input: 100, output: 20 } });
    anthropic.reply({ kind: 'text', text: 'Claude says hello too', usage: { input: 90, output: 10 } });
    const events = await stream(`/conversations/${c.body.id}/messages`, { content: 'Say hello' });
    const types = events.map((e) => e.type);
    expect(types[0]).toBe('message');
    expect(types.at(-1)).toBe('done');
    const tokensOf = (p: string) =>
      events
        .filter((e) => e.type === 'token' && e.data.participantId === p)
        .map((e) => e.data.delta)
        .join('');
    expect(tokensOf('gpt')).toBe('OpenAI says hello there');
    expect(tokensOf('claude')).toBe('Claude says hello too');
    expect(tokensOf('sim')).toContain('Say hello');
    expect(events.filter((e) => e.type === 'token' && e.data.participantId === 'gpt').length).toBeGreaterThan(
      1,
    );
    const answers = events.filter((e) => e.type === 'answer').map((e) => e.data.message as Msg);
    expect(answers).toHaveLength(4);
    const by = Object.fromEntries(answers.map((a) => [a.senderId, a]));
    expect(by.gpt).toMatchObject({
      status: 'completed',
      model: 'openai:gpt-4o-mini',
      senderName: 'GPT',
      tokens: { input: 100, output: 20, total: 120 },
    });
    // gpt-4o-mini: $0.15 / $0.60 per million tokens
    expect(by.gpt.cost).toBeCloseTo((100 * 0.15 + 20 * 0.6) / 1e6, 12);
    expect(by.claude).toMatchObject({ status: 'completed', tokens: { input: 90, output: 10, total: 100 } });
    expect(by.claude.cost).toBeGreaterThan(0);
    expect(by.sim.status).toBe('completed');
    expect(by.sim.content).toContain('Answer briefly.');
    expect(by.sim.content).toContain('AI Ops Studio');
    expect(by.broken).toMatchObject({ status: 'failed', error: { code: 'provider_invalid_request' } });
    for (const a of answers) expect(a.latencyMs).toBeGreaterThanOrEqual(0);
    // the system prompt and shared context reached the real providers too
    expect(JSON.stringify(openai.exchanges.at(-1)!.request.body)).toContain('Answer briefly.');
    expect(JSON.stringify(anthropic.exchanges.at(-1)!.request.body)).toContain('AI Ops Studio');
    expect(openai.exchanges.at(-1)!.streamed).toBe(true);

    const done = events.at(-1)!.data.conversation as Msg;
    const sum = answers.reduce((t, a) => t + a.tokens.total, 0);
    expect(done.totalTokens).toBe(sum);
    expect(done.totalCost).toBeCloseTo(by.gpt.cost + by.claude.cost, 10);
    expect(done.lastMessageAt).not.toBeNull();
    const list = await api('GET', `/conversations/${c.body.id}/messages`);
    expect(list.body.data).toHaveLength(5);
    expect(list.body.data[0]).toMatchObject({ senderType: 'user', content: 'Say hello' });
  });

  it('collaborative: rounds in turn, each seeing the answers so far, then the synthesizer writes a synthesis', async () => {
    const c = await api('POST', '/conversations', {
      mode: 'collaborative',
      participants: [
        { id: 'a', name: 'Alice', model: 'simulator:echo' },
        { id: 'b', name: 'Bob', model: 'simulator:echo' },
      ],
      settings: { rounds: 2, synthesizer: 'b' },
    });
    expect(c.status, JSON.stringify(c.body)).toBe(201);
    const r = await api('POST', `/conversations/${c.body.id}/messages`, { content: 'Plan the launch' });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const order = r.body.answers.map((a: Msg) => `${a.senderId}:${a.round}:${a.kind}`);
    expect(order).toEqual(['a:1:message', 'b:1:message', 'a:2:message', 'b:2:message', 'b:3:synthesis']);
    // Bob's first turn saw Alice's answer; the synthesis saw all four
    expect(r.body.answers[1].content).toContain('[Alice, round 1]');
    expect(r.body.answers[4].content).toContain('[Bob, round 2]');
    expect(r.body.answers[4].content).toContain('Write one synthesis');
  });

  it("collaborative on the OpenAI- and Anthropic-wire fakes: the second participant is sent the first one's answer", async () => {
    const c = await api('POST', '/conversations', {
      mode: 'collaborative',
      participants: [
        { id: 'gpt', name: 'GPT', model: 'openai:gpt-4o-mini', integrationId: openaiId },
        { id: 'claude', name: 'Claude', model: 'anthropic:claude-haiku-4-5', integrationId: anthropicId },
      ],
      settings: { rounds: 1, synthesizer: 'claude' },
    });
    expect(c.status, JSON.stringify(c.body)).toBe(201);
    openai.reply({ kind: 'text', text: 'Ship on Monday.', usage: { input: 30, output: 5 } });
    anthropic.reply(
      { kind: 'text', text: 'Ship on Tuesday instead.', usage: { input: 40, output: 6 } },
      {
        kind: 'text',
        text: 'Both agree to ship early in the week; Tuesday is safer.',
        usage: { input: 60, output: 12 },
      },
    );
    const events = await stream(`/conversations/${c.body.id}/messages`, { content: 'When do we ship?' });
    const answers = events.filter((e) => e.type === 'answer').map((e) => e.data.message as Msg);
    expect(answers.map((a) => `${a.senderId}:${a.kind}:${a.status}`)).toEqual([
      'gpt:message:completed',
      'claude:message:completed',
      'claude:synthesis:completed',
    ]);
    const claudeTurn = JSON.stringify(anthropic.exchanges.at(-2)!.request.body);
    expect(claudeTurn).toContain('Ship on Monday.');
    const synthesis = JSON.stringify(anthropic.exchanges.at(-1)!.request.body);
    expect(synthesis).toContain('Ship on Tuesday instead.');
    expect(answers[2]!.content).toBe('Both agree to ship early in the week; Tuesday is safer.');
    expect(events.filter((e) => e.type === 'token' && e.data.kind === 'synthesis').length).toBeGreaterThan(0);
    expect(answers[2]!.tokens).toEqual({ input: 60, output: 12, total: 72 });
  });

  it('windows long histories to the token budget; budgets stop a conversation', async () => {
    const c = await api('POST', '/conversations', {
      mode: 'single',
      participants: [{ model: 'simulator:echo' }],
      settings: { historyTokens: 120 },
    });
    const long = (w: string) => `${w} `.repeat(60).trim();
    await api('POST', `/conversations/${c.body.id}/messages`, { content: long('alpha') });
    await api('POST', `/conversations/${c.body.id}/messages`, { content: long('beta') });
    const r = await api('POST', `/conversations/${c.body.id}/messages`, { content: 'gamma' });
    const a = r.body.answers[0];
    expect(a.metadata.history.dropped).toBeGreaterThan(0);
    expect(a.metadata.history.tokens).toBeLessThanOrEqual(120);
    expect(a.content).not.toContain('alpha');
    expect(a.content).toContain('gamma');

    // A conversation with a budget: once it is spent, no further message is taken (402, nothing stored)
    const paid = await api('POST', '/conversations', {
      participants: [{ model: 'openai:gpt-4o-mini', integrationId: openaiId, maxTokens: 50 }],
      settings: { budgetUsd: 0.01 },
    });
    openai.reply({ kind: 'text', text: 'costly', usage: { input: 1000, output: 50 } });
    const first = await api('POST', `/conversations/${paid.body.id}/messages`, { content: 'hi' });
    expect(first.body.answers[0].status).toBe('completed');
    const spent = first.body.conversation.totalCost;
    expect(spent).toBeGreaterThan(0);
    expect(
      (await api('PATCH', `/conversations/${paid.body.id}`, { settings: { budgetUsd: spent } })).status,
    ).toBe(200);
    const calls = openai.exchanges.length;
    const stopped = await api('POST', `/conversations/${paid.body.id}/messages`, { content: 'again' });
    expect(stopped.status).toBe(402);
    expect(stopped.body.error.code).toBe('budget_exceeded');
    expect(openai.exchanges.length).toBe(calls);
    // a per-call worst case above what is left: the call is not made, the answer is recorded as failed
    await api('PATCH', `/conversations/${paid.body.id}`, { settings: { budgetUsd: spent + 0.0000001 } });
    const refused = await api('POST', `/conversations/${paid.body.id}/messages`, { content: 'once more' });
    expect(refused.status).toBe(200);
    expect(refused.body.answers[0]).toMatchObject({ status: 'failed', error: { code: 'budget_exceeded' } });
    expect(openai.exchanges.length).toBe(calls);
  });

  it('attachments by reference: text inlined for every model, images sent to a provider that takes them; size-limited', async () => {
    const txt = await api('POST', '/conversations/attachments', {
      name: 'notes.txt',
      mediaType: 'text/plain',
      text: 'The launch is on Friday.',
    });
    expect(txt.status, JSON.stringify(txt.body)).toBe(201);
    const png = await api('POST', '/conversations/attachments', {
      name: 'dot.png',
      mediaType: 'image/png',
      base64:
        'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
    });
    expect(png.status).toBe(201);
    const big = await api('POST', '/conversations/attachments', {
      name: 'big.txt',
      mediaType: 'text/plain',
      text: 'x'.repeat(600_000),
    });
    expect(big.status).toBe(413);
    const c = await api('POST', '/conversations', {
      mode: 'multi',
      participants: [
        { id: 'sim', model: 'simulator:echo' },
        { id: 'gpt', model: 'openai:gpt-4o-mini', integrationId: openaiId },
      ],
    });
    openai.reply({ kind: 'text', text: 'A red dot', usage: { input: 10, output: 3 } });
    const r = await api('POST', `/conversations/${c.body.id}/messages`, {
      content: 'What is attached?',
      attachments: [txt.body.id, png.body.id],
    });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.message.attachments.map((x: { name: string }) => x.name)).toEqual(['notes.txt', 'dot.png']);
    const sim = r.body.answers.find((a: Msg) => a.senderId === 'sim');
    expect(sim.content).toContain('The launch is on Friday.');
    const sent = JSON.stringify(openai.exchanges.at(-1)!.request.body);
    expect(sent).toContain('The launch is on Friday.');
    expect(sent).toContain('image_url');
    const unknown = await api('POST', `/conversations/${c.body.id}/messages`, {
      content: 'x',
      attachments: ['00000000-0000-4000-8000-000000000000'],
    });
    expect(unknown.status).toBe(400);
  });

  it('another organization sees nothing; ratings are stored on answers', async () => {
    const c = await api('POST', '/conversations', { participants: [{ model: 'simulator:echo' }] });
    const r = await api('POST', `/conversations/${c.body.id}/messages`, { content: 'rate me' });
    const answer = r.body.answers[0];
    const rated = await api('POST', `/conversations/${c.body.id}/messages/${answer.id}/rating`, {
      thumbs: 'up',
    });
    expect(rated.status, JSON.stringify(rated.body)).toBe(200);
    expect(rated.body.rating).toBe(5);
    const bad = await api('POST', `/conversations/${c.body.id}/messages/${r.body.message.id}/rating`, {
      score: 3,
    });
    expect(bad.status).toBe(400);
    const other = await signUp(s);
    expect((await api('GET', `/conversations/${c.body.id}`, undefined, other.token)).status).toBe(404);
    expect((await api('GET', '/conversations', undefined, other.token)).body.data).toHaveLength(0);
    expect(
      (await api('POST', `/conversations/${c.body.id}/messages`, { content: 'x' }, other.token)).status,
    ).toBe(404);
  });
});
