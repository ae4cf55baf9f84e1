import { testBackend } from '@aiops/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type SignedUp, signUp, startTestServer, type TestServer } from '../../test-support.ts';

interface StreamEvent {
  id: string;
  type: string;
  at: string;
  nodeId?: string;
  data: Record<string, unknown>;
}

let s: TestServer;
let owner: SignedUp;
beforeAll(async () => {
  s = await startTestServer({ worker: true });
  owner = await signUp(s);
});
afterAll(() => s?.close());

/** The events of a `GET /runs/:id/events` answer, in the order sent (step.token events are not replayed). */
async function readEvents(runId: string): Promise<StreamEvent[]> {
  const res = await s.request(`/api/v1/runs/${runId}/events`, {
    headers: { authorization: `Bearer ${owner.token}` },
  });
  expect(res.status).toBe(200);
  return (await res.text())
    .split('\n\n')
    .filter((b) => b.includes('data: ') && !b.includes('event: step.token'))
    .map(
      (b) =>
        JSON.parse(
          b
            .split('\n')
            .find((l) => l.startsWith('data: '))!
            .slice(6),
        ) as StreamEvent,
    );
}

async function createWorkflow(definition: Record<string, unknown>): Promise<string> {
  const wf = await call(s, 'POST', '/api/v1/workflows', {
    token: owner.token,
    body: { status: 'active', definition },
  });
  expect(wf.status).toBe(201);
  return wf.body.id;
}

describe(`run events on ${testBackend()}`, () => {
  it('a live stream sends exactly the events a replay sends: one step.started per step', async () => {
    const slow = { latencyMs: 250 };
    const workflowId = await createWorkflow({
      name: 'three steps',
      nodes: [
        { id: 'a', type: 'agent', agent: { model: 'simulator:echo', prompt: 'one', simulate: slow } },
        { id: 'b', type: 'agent', agent: { model: 'simulator:echo', prompt: 'two', simulate: slow } },
        { id: 'out', type: 'output', value: '{{nodes.b.output}}' },
      ],
      connections: [
        { from: 'a', to: 'b' },
        { from: 'b', to: 'out' },
      ],
    });
    const started = await call(s, 'POST', `/api/v1/workflows/${workflowId}/runs`, {
      token: owner.token,
      body: {},
    });
    expect(started.status).toBe(202);
    const live = await readEvents(started.body.id);
    const replay = await readEvents(started.body.id);
    expect(live).toEqual(replay);
    const kinds = live.map((e) => `${e.type}${e.nodeId ? `:${e.nodeId}` : ''}`);
    expect(kinds).toEqual([
      'run.queued',
      'run.pending',
      'run.running',
      'step.started:a',
      'step.completed:a',
      'step.started:b',
      'step.completed:b',
      'step.started:out',
      'step.completed:out',
      'run.completed',
    ]);
    expect(new Set(live.map((e) => e.id)).size).toBe(live.length);
    // Costs are numbers, as in GET /runs/:id.
    const detail = await call(s, 'GET', `/api/v1/runs/${started.body.id}`, { token: owner.token });
    expect(live.at(-1)!.data.cost).toBe(detail.body.cost);
    const completed = live.filter((e) => e.type === 'step.completed');
    expect(completed.map((e) => typeof e.data.cost)).toEqual(['number', 'number', 'number']);
    const attempts = detail.body.steps.map((x: { attempts: { cost: number }[] }) => x.attempts[0]!.cost);
    expect(completed.map((e) => e.data.cost)).toEqual(attempts);
  });

  it('a retried step: one step.started per attempt, live and replayed alike', async () => {
    const workflowId = await createWorkflow({
      name: 'flaky',
      nodes: [
        {
          id: 'flaky',
          type: 'agent',
          agent: { model: 'simulator:echo', prompt: 'hi', simulate: { latencyMs: 200, failTimes: 1 } },
          retry: { maxAttempts: 2, initialDelayMs: 100, jitter: false },
        },
      ],
    });
    const started = await call(s, 'POST', `/api/v1/workflows/${workflowId}/runs`, {
      token: owner.token,
      body: {},
    });
    const live = await readEvents(started.body.id);
    const replay = await readEvents(started.body.id);
    // The earlier attempt's start time is the step row's claim time live and the attempt row's afterwards
    // (the claim time is overwritten by the next claim), so only that field may differ, by milliseconds.
    const withoutEarlierStart = (events: StreamEvent[]) =>
      events.map((e) => (e.type === 'step.started' && e.data.attempt === 1 ? { ...e, at: '' } : e));
    expect(withoutEarlierStart(live)).toEqual(withoutEarlierStart(replay));
    expect(live.map((e) => `${e.type}${e.nodeId ? `:${e.nodeId}:${e.data.attempt}` : ''}`)).toEqual([
      'run.queued',
      'run.pending',
      'run.running',
      'step.started:flaky:1',
      'step.failed:flaky:1',
      'step.started:flaky:2',
      'step.completed:flaky:2',
      'run.completed',
    ]);
  });

  it('a step that waits for an approval: the same events live and replayed', async () => {
    const workflowId = await createWorkflow({
      name: 'approve-me',
      nodes: [
        { id: 'ask', type: 'approval', message: 'go?' },
        { id: 'after', type: 'agent', agent: { model: 'simulator:echo', prompt: 'done' } },
      ],
      connections: [{ from: 'ask', to: 'after' }],
    });
    const started = await call(s, 'POST', `/api/v1/workflows/${workflowId}/runs`, {
      token: owner.token,
      body: {},
    });
    const runId = started.body.id as string;
    const live = readEvents(runId);
    await expect
      .poll(async () => (await call(s, 'GET', `/api/v1/runs/${runId}`, { token: owner.token })).body.status)
      .toBe('paused');
    const approved = await call(s, 'POST', `/api/v1/runs/${runId}/steps/ask/approve`, {
      token: owner.token,
      body: { approved: true },
    });
    expect(approved.status).toBe(200);
    const liveEvents = await live;
    const replay = await readEvents(runId);
    expect(liveEvents.map((e) => e.id)).toEqual(replay.map((e) => e.id));
    expect(liveEvents).toEqual(replay);
  });
});
