import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { testBackend } from '@aiops/testing';
import { sql } from 'drizzle-orm';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type SignedUp, signUp, startTestServer, type TestServer } from '../../test-support.ts';

let s: TestServer;
let owner: SignedUp;
let receiver: Server;
let receiverUrl: string;
/** The secret the receiver verifies with (shown once when the agent's schedule is set). */
let receiverSecret = '';
/** What the receiver answers next, in order (then 200 with the input echoed). */
const answers: { status: number; body: string; type?: string }[] = [];
const received: { body: Record<string, unknown>; verified: boolean; headers: Record<string, unknown> }[] = [];

beforeAll(async () => {
  s = await startTestServer({ worker: true });
  owner = await signUp(s);
  await s.database.db.system((tx) =>
    tx.execute(
      sql`UPDATE organizations SET settings = settings || '{"allowPrivateNetworks": true}'::jsonb WHERE id = ${owner.organizationId}`,
    ),
  );
  receiver = createServer((req, res) => {
    let raw = '';
    req.on('data', (d) => {
      raw += d;
    });
    req.on('end', () => {
      let verified = false;
      try {
        new Webhook(receiverSecret).verify(raw, {
          'webhook-id': String(req.headers['webhook-id']),
          'webhook-timestamp': String(req.headers['webhook-timestamp']),
          'webhook-signature': String(req.headers['webhook-signature']),
        });
        verified = true;
      } catch {
        verified = false;
      }
      const body = JSON.parse(raw) as Record<string, unknown>;
      received.push({ body, verified, headers: req.headers });
      const next = answers.shift() ?? { status: 200, body: JSON.stringify({ echoed: body.input }) };
      res.statusCode = verified ? next.status : 401;
      res.setHeader('content-type', next.type ?? 'application/json');
      res.end(next.body);
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/agent`;
});
afterAll(async () => {
  await s?.close();
  receiver?.close();
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
    receiverSecret = put.body.secret;
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
    received.length = 0;
    const r = await run(workflowId, { ticket: 42 });
    expect(r.status).toBe('completed');
    expect(r.output).toEqual({ echoed: { ticket: 42 } });
    expect(r.tokens.total).toBe(0);
    expect(received).toHaveLength(1);
    expect(received[0]!.verified).toBe(true);
    expect(received[0]!.body).toMatchObject({
      type: 'agent.step',
      agentId: id,
      runId: r.id,
      nodeId: 'ext',
      attempt: 1,
      input: { ticket: 42 },
    });
    expect(received[0]!.body.stepId).toEqual(expect.any(String));
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
    expect(JSON.stringify(all.body)).not.toContain(receiverSecret.slice(6));
    expect(s.logs.join('\n')).not.toContain(receiverSecret.slice(6));

    // A text answer is the output as text.
    answers.push({ status: 200, body: 'plain words', type: 'text/plain' });
    expect((await run(workflowId, { ticket: 1 })).output).toBe('plain words');
  });

  it('a 4xx answer fails the step without retrying; a 5xx answer is retried per the retry policy', async () => {
    received.length = 0;
    answers.push({ status: 422, body: '{"error":"bad ticket"}' });
    const failed = await run(workflowId, { ticket: 'x' });
    expect(failed.status).toBe('failed');
    expect(failed.steps[0].attempts).toHaveLength(1);
    expect(failed.steps[0].attempts[0].error).toMatchObject({
      code: 'external_agent_rejected',
      retryable: false,
    });
    expect(failed.steps[0].attempts[0].error.message).toMatch(/answered HTTP 422/);
    expect(received).toHaveLength(1);

    received.length = 0;
    answers.push({ status: 503, body: 'busy' });
    const retried = await run(workflowId, { ticket: 7 });
    expect(retried.status).toBe('completed');
    expect(retried.output).toEqual({ echoed: { ticket: 7 } });
    expect(
      retried.steps[0].attempts.map((a: { error?: { code: string } | null }) => a.error?.code ?? null),
    ).toEqual(['external_agent_error', null]);
    expect(received.map((c) => [c.verified, c.body.attempt])).toEqual([
      [true, 1],
      [true, 2],
    ]);
    expect(received[0]!.headers['webhook-id']).not.toBe(received[1]!.headers['webhook-id']);
  });
});
