import { generateKey, parseKeyring, SecretBox } from '@aiops/core';
import {
  type FakeProviderServer,
  MCP_STDIO_SERVER_SCRIPT,
  startFakeOpenAI,
  testBackend,
} from '@aiops/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type SignedUp, signUp, startTestServer, type TestServer } from '../../test-support.ts';

/**
 * Issue 7's "done when", through the API only: an integration, an agent on it with an MCP server's tool, a
 * run whose tokens and cost match the provider's own usage, and a budget that stops an overspending run.
 */
const KEY = 'sk-journey-0000000000000000abcd';
let s: TestServer;
let fake: FakeProviderServer;
let owner: SignedUp;
beforeAll(async () => {
  fake = await startFakeOpenAI('openai', { apiKey: KEY });
  s = await startTestServer({
    worker: { mcpStdioCommands: [process.execPath] },
    secrets: new SecretBox(parseKeyring(`k1:${generateKey()}`)),
  });
  owner = await signUp(s);
});
afterAll(async () => {
  await s?.close();
  await fake?.close();
});

const api = (method: string, path: string, body?: unknown) =>
  call(s, method, `/api/v1${path}`, { token: owner.token, ...(body === undefined ? {} : { body }) });

describe(`an agent with an integration and an MCP tool, on ${testBackend()}`, () => {
  it('runs in a workflow with the provider-reported tokens and exact cost; a budget stops overspending', async () => {
    // the fake provider listens on 127.0.0.1, which only an organization that allows private networks reaches
    expect((await api('PATCH', '/organization', { settings: { allowPrivateNetworks: true } })).status).toBe(
      200,
    );
    const integration = await api('POST', '/integrations', {
      name: 'OpenAI',
      provider: 'openai',
      config: { baseUrl: fake.baseUrl },
      credentials: { apiKey: KEY },
    });
    expect(integration.status, JSON.stringify(integration.body)).toBe(201);
    // An agent names an integration of its organization, for its model's provider; checked when saved.
    const wrongProvider = await api('POST', '/agents', {
      name: 'Mismatch',
      model: 'anthropic:claude-haiku-4-5',
      promptTemplate: 'hi',
      integrationId: integration.body.id,
    });
    expect(wrongProvider.status).toBe(400);
    expect(wrongProvider.body.error.message).toMatch(/is for openai/);
    const unknown = await api('POST', '/agents', {
      name: 'Ghost',
      model: 'openai:gpt-4o-mini',
      promptTemplate: 'hi',
      integrationId: '00000000-0000-4000-8000-000000000000',
    });
    expect(unknown.status).toBe(400);

    const agent = await api('POST', '/agents', {
      name: 'Calculator',
      model: 'openai:gpt-4o-mini',
      promptTemplate: 'What is {{input.a}} + {{input.b}}?',
      tools: ['mcp'],
      toolConfigs: {
        mcp: {
          servers: [
            {
              transport: 'stdio',
              name: 'calc',
              command: process.execPath,
              args: ['--import', 'tsx', MCP_STDIO_SERVER_SCRIPT],
            },
          ],
        },
      },
    });
    expect(agent.status, JSON.stringify(agent.body)).toBe(201);
    const wf = await api('POST', '/workflows', {
      name: 'sum',
      status: 'active',
      definition: { name: 'sum', nodes: [{ id: 'calc', type: 'agent', agentId: agent.body.id }] },
    });
    expect(wf.status, JSON.stringify(wf.body)).toBe(201);

    fake.reply(
      {
        kind: 'tool-calls',
        calls: [{ name: 'calc__add', input: { a: 2, b: 3 } }],
        usage: { input: 80, output: 12 },
      },
      { kind: 'text', text: 'The sum is 5.', usage: { input: 120, output: 8 } },
    );
    const run = await api('POST', `/workflows/${wf.body.id}/runs`, { input: { a: 2, b: 3 }, wait: 30 });
    expect(run.status, JSON.stringify(run.body)).toBe(201);
    expect(run.body.status).toBe('completed');
    expect(run.body.output).toBe('The sum is 5.');
    // the MCP tool really ran: its answer went back to the model
    expect(JSON.stringify(fake.exchanges.at(-1)!.request.body)).toContain('"5"');

    const detail = await api('GET', `/runs/${run.body.id}`);
    const attempt = detail.body.steps[0].attempts[0];
    expect(attempt.tokens).toMatchObject({ input: 200, output: 20, total: 220, estimated: false });
    // gpt-4o-mini: $0.15 per million input tokens, $0.60 per million output tokens (the shipped catalog)
    const expected = (200 * 0.15 + 20 * 0.6) / 1e6;
    expect(attempt.cost).toBeCloseTo(expected, 9);
    expect(detail.body.cost).toBeCloseTo(expected, 9);
    const usage = await api('GET', `/integrations/${integration.body.id}/usage`);
    expect(JSON.stringify(usage.body)).toContain('220');

    // A cost limit per request below the worst case: the call is not made, nothing is charged.
    expect((await api('PATCH', `/agents/${agent.body.id}`, { costLimitPerRequest: 0.000001 })).status).toBe(
      200,
    );
    const calls = fake.exchanges.length;
    const stopped = await api('POST', `/workflows/${wf.body.id}/runs`, { input: { a: 1, b: 1 }, wait: 30 });
    expect(stopped.body.status).toBe('failed');
    expect(stopped.body.error.code).toBe('budget_exceeded');
    expect(stopped.body.cost).toBe(0);
    expect(fake.exchanges.length).toBe(calls);
  });
});
