import { type ReceivedCall, type SignedReceiver, startSignedReceiver, testBackend } from '@aiops/testing';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type SignedUp, signUp, startTestServer, type TestServer } from '../../test-support.ts';

let s: TestServer;
let owner: SignedUp;
/** Calls the agent's webhook_url gets, verified with the secret shown when its schedule was set (401 if not). */
let receiver: SignedReceiver;
let receiverUrl: string;
const bodyOf = (c: ReceivedCall) => JSON.parse(c.body) as Record<string, unknown>;

beforeAll(async () => {
  s = await startTestServer({ worker: true });
  owner = await signUp(s);
  await s.database.db.system((tx) =>
    tx.execute(
      sql`UPDATE organizations SET settings = settings || '{"allowPrivateNetworks": true}'::jsonb WHERE id = ${owner.organizationId}`,
    ),
  );
  // Answers 200 with the input echoed, unless a test queued other answers.
  receiver = await startSignedReceiver({
    answer: (c) => ({ body: JSON.stringify({ echoed: bodyOf(c).input }), contentType: 'application/json' }),
  });
  receiverUrl = receiver.url;
});
afterAll(async () => {
  await s?.close();
  await receiver?.close();
});

async function externalAgent(name: string, withUrl: boolean) {
  const a = await call(s, 'POST', '/api/v1/agents', {
    token: owner.token,
    body: { name, kind: 'external', model: 'simulator:echo', promptTemplate: 'runs elsewhere' },
  });
  expect(a.status).toBe(201);
  if (withUrl) {
    // Setting a (switched off) schedule gives the agent its webhook_url and its signing secret.
    const put = await call(s, 'PUT', `/api/v1/agents/${a.body.id}/schedule`, {
      token: owner.token,
      body: { cron: '0 3 * * *', enabled: false, webhookUrl: receiverUrl },
    });
    expect(put.status).toBe(200);
    receiver.secret = put.body.secret;
  }
  return a.body.id as string;
}

async function workflowWith(agentId: string) {
  return call(s, 'POST', '/api/v1/workflows', {
    token: owner.token,
    body: {
      definition: {
        name: `external-${agentId}`,
        nodes: [
          {
            id: 'ext',
            type: 'agent',
            agentId,
            retry: { maxAttempts: 3, initialDelayMs: 1, jitter: false },
          },
        ],
      },
    },
  });
}

async function run(workflowId: string, input: Record<string, unknown>) {
  const started = await call(s, 'POST', `/api/v1/workflows/${workflowId}/runs`, {
    token: owner.token,
    body: { input, wait: 30 },
  });
  expect(started.status).toBe(201);
  return (await call(s, 'GET', `/api/v1/runs/${started.body.id}`, { token: owner.token })).body;
}

describe(`external agents as workflow steps on ${testBackend()}`, () => {
  let workflowId = '';

  it('an external agent without a webhook_url is refused at save, naming the node', async () => {
    const id = await externalAgent('Nowhere', false);
    const wf = await workflowWith(id);
    expect(wf.status).toBe(400);
    expect(JSON.stringify(wf.body)).toContain(
      `node \\"ext\\" uses external agent ${id}, which has no webhook_url`,
    );
  });

  it('calls the webhook signed, its JSON answer is the output; the call is in the step log without the secret', async () => {
    const id = await externalAgent('Elsewhere', true);
    const wf = await workflowWith(id);
    expect(wf.status).toBe(201);
    workflowId = wf.body.id;
    receiver.received.length = 0;
    const r = await run(workflowId, { ticket: 42 });
    expect(r.status).toBe('completed');
    expect(r.output).toEqual({ echoed: { ticket: 42 } });
    expect(r.tokens.total).toBe(0);
    expect(receiver.received).toHaveLength(1);
    expect(receiver.received[0]!.verified).not.toBeNull();
    expect(bodyOf(receiver.received[0]!)).toMatchObject({
      type: 'agent.step',
      agentId: id,
      runId: r.id,
      nodeId: 'ext',
      attempt: 1,
      input: { ticket: 42 },
    });
    expect(bodyOf(receiver.received[0]!).stepId).toEqual(expect.any(String));
    const attempt = r.steps[0].attempts[0];
    expect(attempt.input).toMatchObject({ input: { ticket: 42 } });
    let logs: { message: string; attributes?: unknown }[] = [];
    for (let i = 0; i < 100 && !logs.length; i++) {
      const res = await call(s, 'GET', `/api/v1/runs/${r.id}/logs?q=${encodeURIComponent('answered HTTP')}`, {
        token: owner.token,
      });
      logs = res.body.logs;
      if (!logs.length) await new Promise((done) => setTimeout(done, 50));
    }
    expect(logs[0]!.message).toMatch(
      /^External agent Elsewhere at 127\.0\.0\.1:\d+ answered HTTP 200 in [\d.]+ ms/,
    );
    const all = await call(s, 'GET', `/api/v1/runs/${r.id}/logs`, { token: owner.token });
    expect(JSON.stringify(all.body)).not.toContain(receiver.secret.slice(6));
    expect(s.logs.join('\n')).not.toContain(receiver.secret.slice(6));

    // A text answer is the output as text.
    receiver.answers.push({ status: 200, body: 'plain words', contentType: 'text/plain' });
    expect((await run(workflowId, { ticket: 1 })).output).toBe('plain words');
  });

  it('a 4xx answer fails the step without retrying; a 5xx answer is retried per the retry policy', async () => {
    receiver.received.length = 0;
    receiver.answers.push({ status: 422, body: '{"error":"bad ticket"}', contentType: 'application/json' });
    const failed = await run(workflowId, { ticket: 'x' });
    expect(failed.status).toBe('failed');
    expect(failed.steps[0].attempts).toHaveLength(1);
    expect(failed.steps[0].attempts[0].error).toMatchObject({
      code: 'external_agent_rejected',
      retryable: false,
    });
    expect(failed.steps[0].attempts[0].error.message).toMatch(/answered HTTP 422/);
    expect(receiver.received).toHaveLength(1);

    receiver.received.length = 0;
    receiver.answers.push({ status: 503, body: 'busy', contentType: 'application/json' });
    const retried = await run(workflowId, { ticket: 7 });
    expect(retried.status).toBe('completed');
    expect(retried.output).toEqual({ echoed: { ticket: 7 } });
    expect(
      retried.steps[0].attempts.map((a: { error?: { code: string } | null }) => a.error?.code ?? null),
    ).toEqual(['external_agent_error', null]);
    expect(receiver.received.map((c) => [c.verified !== null, bodyOf(c).attempt])).toEqual([
      [true, 1],
      [true, 2],
    ]);
    expect(receiver.received[0]!.headers['webhook-id']).not.toBe(receiver.received[1]!.headers['webhook-id']);
  });
});
