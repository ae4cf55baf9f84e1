import { testBackend } from '@aiops/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type SignedUp, signUp, startTestServer, type TestServer } from '../../test-support.ts';

let s: TestServer;
let owner: SignedUp;
beforeAll(async () => {
  s = await startTestServer({ worker: true });
  owner = await signUp(s);
});
afterAll(() => s?.close());

const base = { type: 'custom', model: 'simulator:echo', promptTemplate: '{{input.text}}' };

async function runWith(agentId: string, input: Record<string, unknown>) {
  const wf = await call(s, 'POST', '/api/v1/workflows', {
    token: owner.token,
    body: { definition: { name: `uses-${agentId}`, nodes: [{ id: 'agent', type: 'agent', agentId }] } },
  });
  expect(wf.status).toBe(201);
  const run = await call(s, 'POST', `/api/v1/workflows/${wf.body.id}/runs`, {
    token: owner.token,
    body: { input, wait: 30 },
  });
  expect(run.status).toBe(201);
  return call(s, 'GET', `/api/v1/runs/${run.body.id}`, { token: owner.token });
}

describe(`code agents on ${testBackend()}`, () => {
  it('a code agent runs its code in the sandbox, not as a model call; one without code is refused', async () => {
    const missing = await call(s, 'POST', '/api/v1/agents', {
      token: owner.token,
      body: { ...base, name: 'No code', kind: 'code' },
    });
    expect(missing.status).toBe(400);
    expect(missing.body.error.message).toMatch(/^code: a code agent needs its code/);

    const code =
      'const words: string[] = input.text.split(" ");\nconsole.log("words", words.length);\nreturn { words: words.length, upper: input.text.toUpperCase() };';
    const created = await call(s, 'POST', '/api/v1/agents', {
      token: owner.token,
      body: { ...base, name: 'Counter', kind: 'code', code: { language: 'typescript', code } },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ kind: 'code', code: { language: 'typescript', code } });

    const text = 'three little words';
    const run = await runWith(created.body.id, { text });
    expect(run.body.status).toBe('completed');
    expect(run.body.output).toEqual({ words: text.split(' ').length, upper: text.toUpperCase() });
    const attempt = run.body.steps[0].attempts[0];
    expect(attempt.input).toEqual({ language: 'typescript' });
    expect(run.body.tokens.total).toBe(0);

    // Trying it as a model call is refused (its code is tested with POST /code/test).
    const tried = await call(s, 'POST', `/api/v1/agents/${created.body.id}/try`, {
      token: owner.token,
      body: { input: { text } },
    });
    expect(tried.status).toBe(400);
    expect(tried.body.error.code).toBe('agent_not_a_model');

    // A change that leaves kind out keeps it (and the code).
    const renamed = await call(s, 'PATCH', `/api/v1/agents/${created.body.id}`, {
      token: owner.token,
      body: { name: 'Word counter' },
    });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({
      kind: 'code',
      type: 'custom',
      code: { language: 'typescript', code },
    });

    // Removing the code, or turning a model agent into a code agent without code, is refused.
    const cleared = await call(s, 'PATCH', `/api/v1/agents/${created.body.id}`, {
      token: owner.token,
      body: { code: null },
    });
    expect(cleared.body).toMatchObject({ error: { code: 'bad_request' } });
    expect(cleared.status).toBe(400);
    const llm = await call(s, 'POST', '/api/v1/agents', {
      token: owner.token,
      body: { ...base, name: 'Echo' },
    });
    expect(llm.body.code).toBeNull();
    const toCode = await call(s, 'PATCH', `/api/v1/agents/${llm.body.id}`, {
      token: owner.token,
      body: { kind: 'code' },
    });
    expect(toCode.status).toBe(400);
    expect(toCode.body.error.message).toMatch(/^code: /);
  });

  it('a runaway code agent fails its run with code_timeout', async () => {
    const created = await call(s, 'POST', '/api/v1/agents', {
      token: owner.token,
      body: {
        ...base,
        name: 'Spinner',
        kind: 'code',
        code: { language: 'javascript', code: 'while (true) {}' },
      },
    });
    expect(created.status).toBe(201);
    const run = await runWith(created.body.id, { text: 'x' });
    expect(run.body.status).toBe('failed');
    expect(run.body.steps[0].attempts.at(-1).error.code).toBe('code_timeout');
  }, 60_000);
});
