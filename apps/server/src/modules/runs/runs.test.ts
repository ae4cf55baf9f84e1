import { testBackend } from '@aiops/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type SignedUp, signUp, startTestServer, type TestServer } from '../../test-support.ts';

let s: TestServer;
let owner: SignedUp;
let workflowId: string;
beforeAll(async () => {
  s = await startTestServer({ worker: true });
  owner = await signUp(s);
  const created = await call(s, 'POST', '/api/v1/workflows', {
    token: owner.token,
    body: {
      status: 'active',
      definition: {
        name: 'triage',
        input: { type: 'object', properties: { ticket: { type: 'string' } }, required: ['ticket'] },
        nodes: [
          {
            id: 'classify',
            type: 'agent',
            agent: {
              model: 'simulator:json',
              prompt: 'Classify {{input.ticket}}',
              simulate: { output: { category: 'bug' } },
            },
          },
          {
            id: 'reply',
            type: 'agent',
            agent: {
              model: 'simulator:echo',
              prompt: 'Reply to {{input.ticket}} ({{nodes.classify.output.category}})',
            },
          },
          {
            id: 'result',
            type: 'output',
            value: { category: '{{nodes.classify.output.category}}', reply: '{{nodes.reply.output}}' },
          },
        ],
        connections: [
          { from: 'classify', to: 'reply', condition: "nodes.classify.output.category != 'spam'" },
          { from: 'reply', to: 'result' },
        ],
      },
    },
  });
  workflowId = created.body.id;
});
afterAll(() => s?.close());

describe(`runs API on ${testBackend()}`, () => {
  it('starts a run and waits for it: 201 with the output, tokens and steps', async () => {
    const r = await call(s, 'POST', `/api/v1/workflows/${workflowId}/runs`, {
      token: owner.token,
      body: { input: { ticket: 'printer on fire' }, wait: 10 },
    });
    expect(r.status).toBe(201);
    expect(r.headers.get('location')).toBe(`/api/v1/runs/${r.body.id}`);
    expect(r.body).toMatchObject({
      status: 'completed',
      output: { category: 'bug', reply: 'Reply to printer on fire (bug)' },
      workflowVersion: 1,
      stepsTotal: 3,
      stepsCompleted: 3,
      triggeredBy: 'manual',
      triggeredByUserId: owner.userId,
    });
    expect(r.body.tokens.total).toBeGreaterThan(0);
    const detail = await call(s, 'GET', `/api/v1/runs/${r.body.id}`, { token: owner.token });
    expect(detail.body.steps.map((x: { nodeId: string; status: string }) => [x.nodeId, x.status])).toEqual([
      ['classify', 'completed'],
      ['reply', 'completed'],
      ['result', 'completed'],
    ]);
    const reply = detail.body.steps[1];
    expect(reply.attempts[0]).toMatchObject({
      attempt: 1,
      status: 'completed',
      model: 'simulator:echo',
      input: { prompt: 'Reply to printer on fire (bug)' },
    });
    expect(reply.attempts[0].tokens.total).toBe(
      reply.attempts[0].tokens.input + reply.attempts[0].tokens.output,
    );
  });

  it('without wait answers 202 at once; the run can be followed as Server-Sent Events to the end', async () => {
    const r = await call(s, 'POST', `/api/v1/workflows/${workflowId}/runs`, {
      token: owner.token,
      body: { input: { ticket: 'slow' } },
    });
    expect(r.status).toBe(202);
    expect(['pending', 'running', 'completed']).toContain(r.body.status);
    const res = await s.request(`/api/v1/runs/${r.body.id}/events`, {
      headers: { authorization: `Bearer ${owner.token}` },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    const text = await res.text(); // the stream ends after the run's final event
    const events = text
      .split('\n\n')
      .filter((b) => b.includes('data: '))
      .map(
        (b) =>
          JSON.parse(
            b
              .split('\n')
              .find((l) => l.startsWith('data: '))!
              .slice(6),
          ) as { type: string; nodeId?: string },
      );
    const types = events.map((e) => `${e.type}${e.nodeId ? `:${e.nodeId}` : ''}`);
    expect(types[0]).toBe('run.queued');
    expect(types).toEqual(
      expect.arrayContaining([
        'run.running',
        'step.started:classify',
        'step.completed:classify',
        'step.completed:reply',
        'step.completed:result',
      ]),
    );
    expect(types.at(-1)).toBe('run.completed');
    expect(new Set(events.map((e) => JSON.stringify(e))).size).toBe(events.length);
  });

  it("streams a model's text into the event stream as step.token events while the step runs", async () => {
    const wf = await call(s, 'POST', '/api/v1/workflows', {
      token: owner.token,
      body: {
        name: 'streaming',
        status: 'active',
        definition: {
          name: 'streaming',
          nodes: [
            {
              id: 'talk',
              type: 'agent',
              agent: {
                model: 'simulator:echo',
                prompt: 'one two three four five six seven eight nine ten eleven twelve',
                simulate: { latencyMs: 800 },
              },
            },
          ],
        },
      },
    });
    expect(wf.status).toBe(201);
    const r = await call(s, 'POST', `/api/v1/workflows/${wf.body.id}/runs`, { token: owner.token, body: {} });
    const res = await s.request(`/api/v1/runs/${r.body.id}/events`, {
      headers: { authorization: `Bearer ${owner.token}` },
    });
    const blocks = (await res.text()).split('\n\n').filter((b) => b.includes('event: step.token'));
    expect(blocks.length).toBeGreaterThan(1);
    const deltas = blocks.map(
      (b) =>
        JSON.parse(
          b
            .split('\n')
            .find((l) => l.startsWith('data: '))!
            .slice(6),
        ) as { nodeId: string; delta: string },
    );
    expect(deltas.every((d) => d.nodeId === 'talk')).toBe(true);
    expect(deltas.map((d) => d.delta).join('')).toBe(
      'one two three four five six seven eight nine ten eleven twelve',
    );
  });

  it('bad input answers 400 naming each field, and creates no run', async () => {
    const before = await call(s, 'GET', `/api/v1/runs?workflowId=${workflowId}&limit=500`, {
      token: owner.token,
    });
    const r = await call(s, 'POST', `/api/v1/workflows/${workflowId}/runs`, {
      token: owner.token,
      body: { input: { ticket: 5, extra: true } },
    });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('invalid_input');
    expect(r.body.error.details.issues.map((i: { path: string }) => i.path)).toEqual(['input.ticket']);
    const after = await call(s, 'GET', `/api/v1/runs?workflowId=${workflowId}&limit=500`, {
      token: owner.token,
    });
    expect(after.body.data.length).toBe(before.body.data.length);
    expect(
      (
        await call(s, 'POST', `/api/v1/workflows/${workflowId}/runs`, {
          token: owner.token,
          body: { input: { ticket: 'x' }, version: 7 },
        })
      ).status,
    ).toBe(400);
  });

  it('an Idempotency-Key returns the first run', async () => {
    const headers = { 'idempotency-key': 'order-42' };
    const a = await call(s, 'POST', `/api/v1/workflows/${workflowId}/runs`, {
      token: owner.token,
      headers,
      body: { input: { ticket: 'a' } },
    });
    const b = await call(s, 'POST', `/api/v1/workflows/${workflowId}/runs`, {
      token: owner.token,
      headers,
      body: { input: { ticket: 'b' } },
    });
    expect(b.body.id).toBe(a.body.id);
    expect(b.headers.get('idempotent-replayed')).toBe('true');
    expect(b.body.input).toEqual({ ticket: 'a' });
  });

  it('without wait answers 202 even when the run has already finished', async () => {
    const headers = { 'idempotency-key': 'finished-before-answer' };
    const done = await call(s, 'POST', `/api/v1/workflows/${workflowId}/runs`, {
      token: owner.token,
      headers,
      body: { input: { ticket: 'done' }, wait: 10 },
    });
    expect(done.status).toBe(201);
    expect(done.body.status).toBe('completed');
    // The same run again, now finished before the request even starts: still "accepted", not "created".
    const again = await call(s, 'POST', `/api/v1/workflows/${workflowId}/runs`, {
      token: owner.token,
      headers,
      body: { input: { ticket: 'done' } },
    });
    expect(again.body.id).toBe(done.body.id);
    expect(again.body.status).toBe('completed');
    expect(again.status).toBe(202);
  });

  it('without wait answers the run as it was created, field for field as a GET reads it', async () => {
    // One run at a time: the first waits for an approval (paused, still active), the second is queued.
    const gated = await call(s, 'POST', '/api/v1/workflows', {
      token: owner.token,
      body: {
        status: 'active',
        definition: {
          name: 'gated',
          settings: { maxConcurrentRuns: 1 },
          nodes: [
            { id: 'gate', type: 'approval', message: 'Go?' },
            { id: 'done', type: 'output', value: 'ok' },
          ],
          connections: [{ from: 'gate', to: 'done' }],
        },
      },
    });
    const start = (ticket: string, key: string) =>
      call(s, 'POST', `/api/v1/workflows/${gated.body.id}/runs`, {
        token: owner.token,
        headers: { 'idempotency-key': key },
        body: {
          input: { ticket, n: [1, 2.5, null], nested: { b: true, a: 'x' } },
          metadata: { source: 'test' },
        },
      });
    const moving = new Set([
      'status',
      'stepsCompleted',
      'startedAt',
      'completedAt',
      'durationMs',
      'output',
      'tokens',
      'cost',
      'error',
      'statusReason',
    ]);
    const stable = (body: Record<string, unknown>) =>
      Object.fromEntries(Object.entries(body).filter(([k]) => !moving.has(k)));

    const first = await start('first', 'created-body-1');
    expect(first.status).toBe(202);
    const firstRead = await call(s, 'GET', `/api/v1/runs/${first.body.id}`, { token: owner.token });
    const { steps: _steps, ...firstRun } = firstRead.body;
    expect(Object.keys(first.body).sort()).toEqual(Object.keys(firstRun).sort());
    expect(stable(first.body)).toEqual(stable(firstRun));
    expect(first.body).toMatchObject({
      stepsCompleted: 0,
      tokens: { input: 0, output: 0, total: 0 },
      cost: 0,
      output: null,
      error: null,
      statusReason: null,
      completedAt: null,
      durationMs: null,
      metadata: { source: 'test' },
      triggeredByUserId: owner.userId,
      stepsTotal: 2,
    });
    // Started by this process's worker in the creating transaction, or left for a worker to claim.
    expect(['pending', 'running']).toContain(first.body.status);
    if (first.body.status === 'running') expect(first.body.startedAt).toBe(firstRun.startedAt);
    else expect(first.body.startedAt).toBeNull();

    await expect
      .poll(
        async () =>
          (await call(s, 'GET', `/api/v1/runs/${first.body.id}`, { token: owner.token })).body.status,
        { timeout: 10_000 },
      )
      .toBe('paused');
    const second = await start('second', 'created-body-2');
    expect(second.status).toBe(202);
    const secondRead = await call(s, 'GET', `/api/v1/runs/${second.body.id}`, { token: owner.token });
    const { steps: _secondSteps, ...secondRun } = secondRead.body;
    expect(second.body.status).toBe('queued');
    expect(second.body).toEqual(secondRun);
    await call(s, 'POST', `/api/v1/runs/${first.body.id}/cancel`, { token: owner.token });
  });

  it('lists runs with filters and cursor pagination', async () => {
    const page1 = await call(s, 'GET', `/api/v1/runs?workflowId=${workflowId}&limit=2`, {
      token: owner.token,
    });
    expect(page1.body.data).toHaveLength(2);
    const page2 = await call(
      s,
      'GET',
      `/api/v1/runs?workflowId=${workflowId}&limit=2&cursor=${page1.body.nextCursor}`,
      { token: owner.token },
    );
    expect(page2.body.data[0].id).not.toBe(page1.body.data[1].id);
    const completed = await call(s, 'GET', '/api/v1/runs?status=completed', { token: owner.token });
    expect(completed.body.data.every((r: { status: string }) => r.status === 'completed')).toBe(true);
    expect((await call(s, 'GET', '/api/v1/runs?status=nonsense', { token: owner.token })).status).toBe(400);
  });

  it('cancels a running run; cancelling a finished run is an invalid transition (409)', async () => {
    const slow = await call(s, 'POST', '/api/v1/workflows', {
      token: owner.token,
      body: {
        definition: {
          name: 'slow',
          nodes: [
            {
              id: 'wait',
              type: 'agent',
              agent: { model: 'simulator:echo', prompt: 'x', simulate: { latencyMs: 5000 } },
            },
          ],
        },
      },
    });
    const r = await call(s, 'POST', `/api/v1/workflows/${slow.body.id}/runs`, {
      token: owner.token,
      body: {},
    });
    await expect
      .poll(
        async () => (await call(s, 'GET', `/api/v1/runs/${r.body.id}`, { token: owner.token })).body.status,
      )
      .toBe('running');
    const c = await call(s, 'POST', `/api/v1/runs/${r.body.id}/cancel`, { token: owner.token });
    expect(c.status).toBe(200);
    expect(c.body.status).toBe('cancelled');
    const again = await call(s, 'POST', `/api/v1/runs/${r.body.id}/cancel`, { token: owner.token });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('invalid_transition');
  });

  it("another organization's runs answer 404", async () => {
    const mine = await call(s, 'POST', `/api/v1/workflows/${workflowId}/runs`, {
      token: owner.token,
      body: { input: { ticket: 'x' }, wait: 5 },
    });
    const other = await signUp(s);
    expect((await call(s, 'GET', `/api/v1/runs/${mine.body.id}`, { token: other.token })).status).toBe(404);
    expect(
      (await call(s, 'POST', `/api/v1/runs/${mine.body.id}/cancel`, { token: other.token })).status,
    ).toBe(404);
    expect(
      (
        await s.request(`/api/v1/runs/${mine.body.id}/events`, {
          headers: { authorization: `Bearer ${other.token}` },
        })
      ).status,
    ).toBe(404);
    const list = await call(s, 'GET', '/api/v1/runs', { token: other.token });
    expect(list.body.data).toEqual([]);
  });
});
