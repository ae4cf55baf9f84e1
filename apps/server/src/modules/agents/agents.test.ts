import { testBackend } from '@aiops/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  addMember,
  call,
  type SignedUp,
  signUp,
  startTestServer,
  type TestServer,
} from '../../test-support.ts';

let s: TestServer;
let owner: SignedUp;
beforeAll(async () => {
  s = await startTestServer({ worker: true });
  owner = await signUp(s);
});
afterAll(() => s?.close());

const agent = {
  name: 'Summarizer',
  type: 'analyzer',
  model: 'simulator:echo',
  systemPrompt: 'Be brief.',
  promptTemplate: 'Summarize: {{input.text}}',
  temperature: 0.3,
  maxTokens: 256,
  tools: ['http_request'],
  toolConfigs: { http_request: { timeoutMs: 5000 } },
  memoryConfig: { type: 'short_term', max_messages: 10 },
};

describe(`agents API on ${testBackend()}`, () => {
  it('creates, versions on every change, tries the agent, and a workflow pins the version it starts with', async () => {
    const c = await call(s, 'POST', '/api/v1/agents', { token: owner.token, body: agent });
    expect(c.status).toBe(201);
    expect(c.body).toMatchObject({
      name: 'Summarizer',
      version: '1.0.0',
      versionNumber: 1,
      kind: 'llm',
      type: 'analyzer',
      model: 'simulator:echo',
      tools: ['http_request'],
    });
    const id = c.body.id as string;

    const tried = await call(s, 'POST', `/api/v1/agents/${id}/try`, {
      token: owner.token,
      body: { input: { text: 'a long story' } },
    });
    expect(tried.status).toBe(200);
    expect(tried.body).toMatchObject({
      prompt: 'Summarize: a long story',
      system: 'Be brief.',
      model: 'simulator:echo',
    });
    expect(tried.body.tokens.total).toBeGreaterThan(0);

    const wf = await call(s, 'POST', '/api/v1/workflows', {
      token: owner.token,
      body: { definition: { name: 'uses-agent', nodes: [{ id: 'sum', type: 'agent', agentId: id }] } },
    });
    const first = await call(s, 'POST', `/api/v1/workflows/${wf.body.id}/runs`, {
      token: owner.token,
      body: { input: { text: 'one' }, wait: 10 },
    });
    expect(first.body.output).toBe('Be brief.\n\nSummarize: one');

    const u = await call(s, 'PATCH', `/api/v1/agents/${id}`, {
      token: owner.token,
      // memory off, so the next run's answer is not prefixed by the recalled first exchange
      body: { promptTemplate: 'TL;DR {{input.text}}', memoryConfig: {} },
    });
    // Fields left out keep their values (no defaults on a change).
    expect(u.body).toMatchObject({
      version: '1.0.1',
      versionNumber: 2,
      promptTemplate: 'TL;DR {{input.text}}',
      systemPrompt: 'Be brief.',
      type: 'analyzer',
      tools: agent.tools,
      toolConfigs: agent.toolConfigs,
      memoryConfig: {},
    });
    const second = await call(s, 'POST', `/api/v1/workflows/${wf.body.id}/runs`, {
      token: owner.token,
      body: { input: { text: 'two' }, wait: 10 },
    });
    expect(second.body.output).toBe('Be brief.\n\nTL;DR two');
    const detail = await call(s, 'GET', `/api/v1/runs/${first.body.id}`, { token: owner.token });
    expect(detail.body.steps[0].attempts[0].input.prompt).toBe('Summarize: one');

    const versions = await call(s, 'GET', `/api/v1/agents/${id}/versions`, { token: owner.token });
    expect(versions.body.data.map((v: { version: string }) => v.version)).toEqual(['1.0.1', '1.0.0']);

    expect((await call(s, 'DELETE', `/api/v1/agents/${id}`, { token: owner.token })).status).toBe(200);
    const afterDelete = await call(s, 'POST', `/api/v1/workflows/${wf.body.id}/runs`, {
      token: owner.token,
      body: { input: { text: 'x' } },
    });
    expect(afterDelete.status).toBe(400);
    expect(afterDelete.body.error.code).toBe('agent_not_found');
  });

  it('validates input, refuses duplicates, enforces roles and tenancy', async () => {
    const bad = await call(s, 'POST', '/api/v1/agents', {
      token: owner.token,
      body: { name: '', model: 'gpt4', promptTemplate: 1 },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.issues.map((i: { path: string }) => i.path).sort()).toEqual([
      'body.model',
      'body.name',
      'body.promptTemplate',
    ]);
    await call(s, 'POST', '/api/v1/agents', { token: owner.token, body: { ...agent, name: 'Dup' } });
    expect(
      (await call(s, 'POST', '/api/v1/agents', { token: owner.token, body: { ...agent, name: 'Dup' } }))
        .status,
    ).toBe(409);
    const viewer = await addMember(s, owner, 'viewer');
    expect((await call(s, 'GET', '/api/v1/agents', { token: viewer.token })).status).toBe(200);
    expect(
      (await call(s, 'POST', '/api/v1/agents', { token: viewer.token, body: { ...agent, name: 'V' } }))
        .status,
    ).toBe(403);
    const mine = await call(s, 'POST', '/api/v1/agents', {
      token: owner.token,
      body: { ...agent, name: 'Mine' },
    });
    const other = await signUp(s);
    expect((await call(s, 'GET', `/api/v1/agents/${mine.body.id}`, { token: other.token })).status).toBe(404);
    expect(
      (await call(s, 'PATCH', `/api/v1/agents/${mine.body.id}`, { token: other.token, body: { name: 'x' } }))
        .status,
    ).toBe(404);
    expect(
      (await call(s, 'POST', `/api/v1/agents/${mine.body.id}/try`, { token: other.token, body: {} })).status,
    ).toBe(404);
  });
});
