import { testBackend } from '@aiops/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type SignedUp, signUp, startTestServer, type TestServer } from '../test-support.ts';

/** A workflow may name only its own organization's agents and sub-workflows: checked when saved. */
let s: TestServer;
let a: SignedUp;
let b: SignedUp;
let agentA = '';
let workflowA = '';
let agentB = '';
beforeAll(async () => {
  s = await startTestServer();
  [a, b] = await Promise.all([signUp(s), signUp(s)]);
  const agent = (owner: SignedUp) =>
    call(s, 'POST', '/api/v1/agents', {
      token: owner.token,
      body: { name: 'Echo', type: 'analyzer', model: 'simulator:echo', promptTemplate: 'Say {{input.x}}' },
    });
  agentA = (await agent(a)).body.id;
  agentB = (await agent(b)).body.id;
  workflowA = (
    await call(s, 'POST', '/api/v1/workflows', { token: a.token, body: { definition: def('child', {}) } })
  ).body.id;
  expect([agentA, agentB, workflowA].every(Boolean)).toBe(true);
});
afterAll(() => s?.close());

function def(name: string, node: Record<string, unknown>) {
  return {
    name,
    nodes: [
      { id: 'step', type: 'agent', agent: { model: 'simulator:echo', prompt: 'hi' }, ...node },
      { id: 'out', type: 'output', value: { text: '{{nodes.step.output}}' } },
    ],
    connections: [{ from: 'step', to: 'out' }],
  };
}
const agentNode = (agentId: string, extra: Record<string, unknown> = {}) => ({
  type: 'agent',
  agent: undefined,
  agentId,
  ...extra,
});
const childNode = (workflowId: string) => ({ type: 'subworkflow', agent: undefined, workflowId });

describe(`references to another organization are refused when saved, on ${testBackend()}`, () => {
  it.each([
    ['agentId', () => agentNode(agentA), 'nodes.step.agentId'],
    ['sub-workflow', () => childNode(workflowA), 'nodes.step.workflowId'],
  ] as const)(
    "another organization's %s: create and update answer 400 naming the node",
    async (_what, node, path) => {
      const created = await call(s, 'POST', '/api/v1/workflows', {
        token: b.token,
        body: { definition: def(`x-${path}`, node()) },
      });
      expect(created.status).toBe(400);
      expect(created.body.error.code).toBe('invalid_definition');
      expect(created.body.error.details.issues).toEqual([expect.objectContaining({ nodeId: 'step', path })]);
      expect(created.body.error.message).toContain('does not exist in this organization');

      const own = await call(s, 'POST', '/api/v1/workflows', {
        token: b.token,
        body: { definition: def(`own-${path}`, agentNode(agentB)) },
      });
      expect(own.status).toBe(201);
      const updated = await call(s, 'PATCH', `/api/v1/workflows/${own.body.id}`, {
        token: b.token,
        body: { definition: def(`own-${path}`, node()) },
      });
      expect(updated.status).toBe(400);
      expect(updated.body.error.details.issues[0]).toMatchObject({ nodeId: 'step', path });
      // Nothing was stored: the workflow is still at version 1.
      const after = await call(s, 'GET', `/api/v1/workflows/${own.body.id}`, { token: b.token });
      expect(after.body.version).toBe(1);
    },
  );

  it("the organization's own agent and sub-workflow are accepted; a pinned version that does not exist is not", async () => {
    const child = await call(s, 'POST', '/api/v1/workflows', {
      token: a.token,
      body: { definition: def('uses-child', childNode(workflowA)) },
    });
    expect(child.status).toBe(201);
    const pinned = await call(s, 'POST', '/api/v1/workflows', {
      token: a.token,
      body: { definition: def('pinned', agentNode(agentA, { agentVersion: 1 })) },
    });
    expect(pinned.status).toBe(201);
    const missing = await call(s, 'POST', '/api/v1/workflows', {
      token: a.token,
      body: { definition: def('pinned-missing', agentNode(agentA, { agentVersion: 99 })) },
    });
    expect(missing.status).toBe(400);
    expect(missing.body.error.details.issues[0]).toMatchObject({
      nodeId: 'step',
      path: 'nodes.step.agentVersion',
    });
  });
});
