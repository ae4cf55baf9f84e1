import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { agents, queryRows } from '@aiops/db';
import { testBackend } from '@aiops/testing';
import { eq, sql } from 'drizzle-orm';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type SignedUp, signUp, startTestServer, type TestServer } from '../../test-support.ts';

/**
 * Every external agent with a webhook_url has a signing secret, schedule or not: workflow steps calling it
 * are always signed. The secret is made with the URL (shown once), or at the first call for an agent saved
 * without one, and rotates through the schedule's rotate endpoint.
 */
let s: TestServer;
let owner: SignedUp;
let receiver: Server;
let receiverUrl: string;
const received: { headers: IncomingHttpHeaders; body: string }[] = [];

beforeAll(async () => {
  s = await startTestServer({ worker: true });
  owner = await signUp(s);
  await s.database.db.system((tx) =>
    tx.execute(
      sql`UPDATE organizations SET settings = settings || '{"allowPrivateNetworks": true}'::jsonb WHERE id = ${owner.organizationId}`,
    ),
  );
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => {
      body += d;
    });
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ ok: true }));
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/agent`;
});
afterAll(async () => {
  await s?.close();
  receiver?.close();
});

const api = (method: string, path: string, body?: unknown) =>
  call(s, method, `/api/v1${path}`, { token: owner.token, ...(body === undefined ? {} : { body }) });

/** Whether the receiver's last call verifies with `secret` (Standard Webhooks). */
function verifies(secret: string): boolean {
  const last = received.at(-1)!;
  try {
    new Webhook(secret).verify(last.body, {
      'webhook-id': String(last.headers['webhook-id']),
      'webhook-timestamp': String(last.headers['webhook-timestamp']),
      'webhook-signature': String(last.headers['webhook-signature']),
    });
    return true;
  } catch {
    return false;
  }
}

async function runStep(agentId: string) {
  const wf = await api('POST', '/workflows', {
    definition: { name: `signed-${agentId}-${Date.now()}`, nodes: [{ id: 'ext', type: 'agent', agentId }] },
  });
  expect(wf.status, JSON.stringify(wf.body)).toBe(201);
  const started = await api('POST', `/workflows/${wf.body.id}/runs`, { input: { n: 1 }, wait: 30 });
  expect(started.status).toBe(201);
  const run = await api('GET', `/runs/${started.body.id}`);
  expect(run.body.status, JSON.stringify(run.body.error)).toBe('completed');
  return run.body;
}

const external = { kind: 'external', model: 'simulator:echo', promptTemplate: 'runs elsewhere' };

describe(`external agents' signing secrets on ${testBackend()}`, () => {
  it('an agent created with a webhook_url gets its secret at once, shown once; step calls are signed without a schedule', async () => {
    const created = await api('POST', '/agents', { ...external, name: 'Signed', webhookUrl: receiverUrl });
    expect(created.status).toBe(201);
    const secret = created.body.webhookSecret as string;
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    expect(created.body.webhookSecretHint).toBe(`${secret.slice(0, 6)}…${secret.slice(-4)}`);
    expect(created.body.schedule).toBeNull();
    const got = await api('GET', `/agents/${created.body.id}`);
    expect(got.body.webhookSecret).toBeUndefined();
    expect(JSON.stringify(got.body)).not.toContain(secret);
    const audit = await api('GET', `/audit-logs?entityType=agent&entityId=${created.body.id}`);
    expect(JSON.stringify(audit.body)).not.toContain(secret.slice(6));
    received.length = 0;
    await runStep(created.body.id);
    expect(received).toHaveLength(1);
    expect(received[0]!.headers['webhook-signature']).toMatch(/^v1,/);
    expect(verifies(secret)).toBe(true);
    // Rotating (the schedule's endpoint, no schedule needed) signs the next call with the new secret only.
    const rotated = await api('POST', `/agents/${created.body.id}/schedule/secret`);
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).not.toBe(secret);
    await runStep(created.body.id);
    expect(verifies(rotated.body.secret)).toBe(true);
    expect(verifies(secret)).toBe(false);
  });

  it('an agent given its webhook_url later gets the secret on that update, once', async () => {
    const created = await api('POST', '/agents', { ...external, name: 'Later' });
    expect(created.body).toMatchObject({ webhookUrl: null, webhookSecretHint: null });
    expect(created.body.webhookSecret).toBeUndefined();
    const patched = await api('PATCH', `/agents/${created.body.id}`, { webhookUrl: receiverUrl });
    expect(patched.status).toBe(200);
    expect(patched.body.webhookSecret).toMatch(/^whsec_/);
    const again = await api('PATCH', `/agents/${created.body.id}`, { webhookUrl: `${receiverUrl}?v=2` });
    expect(again.body.webhookSecret).toBeUndefined();
    expect(again.body.webhookSecretHint).toBe(patched.body.webhookSecretHint);
    // An llm agent has nothing to sign.
    const llm = await api('POST', '/agents', {
      name: 'Model',
      model: 'simulator:echo',
      promptTemplate: 'hi',
      webhookUrl: receiverUrl,
    });
    expect(llm.body.webhookSecret).toBeUndefined();
    expect(llm.body.webhookSecretHint).toBeNull();
  });

  it('an agent saved with a URL but no secret (before this rule) gets one at its first call, audited', async () => {
    const created = await api('POST', '/agents', { ...external, name: 'Legacy', webhookUrl: receiverUrl });
    const id = created.body.id as string;
    await s.database.db.system((tx) =>
      tx
        .update(agents)
        .set({ webhookSecretEncrypted: null, webhookSecretKeyId: null, webhookSecretHint: null })
        .where(eq(agents.id, id)),
    );
    received.length = 0;
    await runStep(id);
    expect(received).toHaveLength(1);
    expect(received[0]!.headers['webhook-signature']).toMatch(/^v1,/);
    const schedule = await api('GET', `/agents/${id}/schedule`);
    expect(schedule.body.secretHint).toMatch(/^whsec_…/);
    const made = await s.database.db.system((tx) =>
      queryRows<{ action: string }>(
        tx,
        sql`SELECT action FROM audit_logs WHERE entity_type = 'agent_schedule' AND entity_id = ${id}`,
      ),
    );
    expect(made.map((a) => a.action)).toEqual(['secret_created']);
    // Its owner rotates it to read a value; the calls verify with that one.
    const rotated = await api('POST', `/agents/${id}/schedule/secret`);
    await runStep(id);
    expect(verifies(rotated.body.secret)).toBe(true);
  });
});
