import { agents, queryRows } from '@aiops/db';
import { type SignedReceiver, startSignedReceiver, testBackend } from '@aiops/testing';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type SignedUp, signUp, startTestServer, type TestServer } from '../../test-support.ts';

/**
 * Every external agent with a webhook_url has a signing secret, schedule or not: workflow steps calling it
 * are always signed. The secret is made with the URL (shown once), or at the first call for an agent saved
 * without one, and rotates through the schedule's rotate endpoint.
 */
let s: TestServer;
let owner: SignedUp;
let receiver: SignedReceiver;
let receiverUrl: string;

beforeAll(async () => {
  s = await startTestServer({ worker: true });
  owner = await signUp(s);
  await s.database.db.system((tx) =>
    tx.execute(
      sql`UPDATE organizations SET settings = settings || '{"allowPrivateNetworks": true}'::jsonb WHERE id = ${owner.organizationId}`,
    ),
  );
  // Keeps every call (each is checked against the secret a test names): answers 200 whatever the signature.
  receiver = await startSignedReceiver({
    requireSignature: false,
    answer: () => ({ body: JSON.stringify({ ok: true }), contentType: 'application/json' }),
  });
  receiverUrl = receiver.url;
});
afterAll(async () => {
  await s?.close();
  await receiver?.close();
});

const api = (method: string, path: string, body?: unknown) =>
  call(s, method, `/api/v1${path}`, { token: owner.token, ...(body === undefined ? {} : { body }) });

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
    receiver.received.length = 0;
    await runStep(created.body.id);
    expect(receiver.received).toHaveLength(1);
    expect(receiver.received[0]!.headers['webhook-signature']).toMatch(/^v1,/);
    expect(receiver.verifies(secret)).toBe(true);
    // Rotating (the schedule's endpoint, no schedule needed) signs the next call with the new secret only.
    const rotated = await api('POST', `/agents/${created.body.id}/schedule/secret`);
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).not.toBe(secret);
    await runStep(created.body.id);
    expect(receiver.verifies(rotated.body.secret)).toBe(true);
    expect(receiver.verifies(secret)).toBe(false);
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
    receiver.received.length = 0;
    await runStep(id);
    expect(receiver.received).toHaveLength(1);
    expect(receiver.received[0]!.headers['webhook-signature']).toMatch(/^v1,/);
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
    expect(receiver.verifies(rotated.body.secret)).toBe(true);
  });
});
