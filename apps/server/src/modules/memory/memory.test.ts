import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type SignedUp, signUp, startTestServer, type TestServer } from '../../test-support.ts';

let s: TestServer;
let owner: SignedUp;
let other: SignedUp;
beforeAll(async () => {
  s = await startTestServer({ worker: true });
  owner = await signUp(s);
  other = await signUp(s);
});
afterAll(() => s?.close());

describe('agent memory API', () => {
  it("an agent's thread is readable, belongs to its organization, and can be forgotten", async () => {
    const agent = await call(s, 'POST', '/api/v1/agents', {
      token: owner.token,
      body: {
        name: 'Support bot',
        model: 'simulator:echo',
        promptTemplate: '{{input.text}}',
        memoryConfig: { threadKey: 'ticket-{{input.ticket}}', maxMessages: 20 },
      },
    });
    expect(agent.status).toBe(201);
    const wf = await call(s, 'POST', '/api/v1/workflows', {
      token: owner.token,
      body: {
        name: 'support',
        status: 'active',
        definition: { name: 'support', nodes: [{ id: 'bot', type: 'agent', agentId: agent.body.id }] },
      },
    });
    expect(wf.status).toBe(201);
    for (const text of ['the printer is on fire', 'it is still burning']) {
      const run = await call(s, 'POST', `/api/v1/workflows/${wf.body.id}/runs`, {
        token: owner.token,
        body: { input: { ticket: 7, text }, wait: 10 },
      });
      expect(run.body.status).toBe('completed');
    }
    const thread = await call(s, 'GET', '/api/v1/memory/threads/ticket-7', { token: owner.token });
    expect(thread.status).toBe(200);
    expect(thread.body.data.map((m: { role: string }) => m.role)).toEqual([
      'user',
      'assistant',
      'user',
      'assistant',
    ]);
    expect(thread.body.data[2].content).toBe('it is still burning');
    expect(thread.body.data[3].content).toContain('the printer is on fire');

    const theirs = await call(s, 'GET', '/api/v1/memory/threads/ticket-7', { token: other.token });
    expect(theirs.body.data).toEqual([]);

    expect((await call(s, 'DELETE', '/api/v1/memory/threads/ticket-7', { token: owner.token })).status).toBe(
      204,
    );
    const after = await call(s, 'GET', '/api/v1/memory/threads/ticket-7', { token: owner.token });
    expect(after.body.data).toEqual([]);
  });

  it('refuses an agent memory config with a typo, naming the field', async () => {
    const bad = await call(s, 'POST', '/api/v1/agents', {
      token: owner.token,
      body: { name: 'x', model: 'simulator:echo', promptTemplate: 'hi', memoryConfig: { lastMesages: 3 } },
    });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toMatch(/lastMesages/);
  });
});
