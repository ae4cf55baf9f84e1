import { createServer } from 'node:http';
import { queryRows } from '@aiops/db';
import { createModelPort, outboundPolicy } from '@aiops/providers';
import { startFakeOpenAI, testBackend } from '@aiops/testing';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EngineHarness, engineHarness } from './test-support.ts';

let h: EngineHarness;
beforeAll(async () => {
  h = await engineHarness({ workers: 0 });
  // The simulator priced at $0.01 per token in and out, through the real provider layer (budget checks).
  const model = createModelPort({
    resolveIntegration: () => undefined,
    priceOverrides: () => [
      { model: 'simulator:*', effectiveFrom: '2020-01-01', input: '10000', output: '10000' },
    ],
  });
  h.model.call = (req) => model.call(req);
  await h.addWorker();
});
afterAll(() => h?.close());

/** A loopback listener that counts what reaches it. */
async function listener() {
  let requests = 0;
  const server = createServer((_req, res) => {
    requests += 1;
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"internal":true}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return { port, requests: () => requests, close: () => new Promise<void>((r) => server.close(() => r())) };
}

describe(`the outbound policy is the organization's, not the config's (issue 11) on ${testBackend()}`, () => {
  const widening = { allowCategories: ['loopback', 'private', 'metadata'], allowPrivateNetworks: true };

  it('a tool node whose config carries allowCategories does not reach a loopback listener', async () => {
    const target = await listener();
    try {
      for (const host of ['127.0.0.1', '[::1]', 'localhost.', '[::ffff:127.0.0.1]']) {
        const run = await h.run({
          name: `widen-${host}`,
          nodes: [
            {
              id: 'get',
              type: 'tool',
              tool: 'http_request',
              config: { url: `http://${host}:${target.port}/`, ...widening },
            },
          ],
        });
        expect(run.run.status, host).toBe('failed');
        expect(run.run.errorMessage, host).toMatch(/loopback/);
      }
      expect(target.requests()).toBe(0);
    } finally {
      await target.close();
    }
  });

  it("an agent's toolConfigs (http_request, MCP over HTTP) cannot widen it either", async () => {
    const target = await listener();
    const provider = await startFakeOpenAI('openai');
    const saved = h.model.call;
    // The model (a fake provider on loopback: the provider call itself is allowed here) asks for the tool.
    const port = createModelPort({
      resolveIntegration: (_o, _i, p) => ({
        provider: p,
        apiKey: 'sk-engine-test-0000',
        baseUrl: provider.baseUrl,
        config: {},
        network: outboundPolicy({ allowPrivateNetworks: true }),
      }),
    });
    h.model.call = (req) => port.call(req);
    try {
      provider.reply(
        { kind: 'tool-calls', calls: [{ name: 'http_request', input: {} }], usage: { input: 10, output: 5 } },
        { kind: 'text', text: 'could not fetch', usage: { input: 20, output: 3 } },
      );
      const agent = {
        model: 'openai:gpt-4o-mini',
        prompt: 'fetch it',
        tools: ['http_request'],
        toolConfigs: { http_request: { url: `http://127.0.0.1:${target.port}/`, ...widening } },
      };
      const run = await h.run({ name: 'agent-widen', nodes: [{ id: 'a', type: 'agent', agent }] });
      expect(run.run.status).toBe('completed');
      expect(JSON.stringify(provider.exchanges.at(-1)!.request.body)).toMatch(/loopback/);

      const mcp = {
        ...agent,
        tools: ['mcp'],
        toolConfigs: {
          mcp: {
            servers: [
              { transport: 'http', name: 'inv', url: `http://127.0.0.1:${target.port}/mcp`, ...widening },
            ],
          },
        },
      };
      const refused = await h.run({ name: 'mcp-widen', nodes: [{ id: 'a', type: 'agent', agent: mcp }] });
      expect(refused.run.status).toBe('failed');
      expect(refused.run.errorMessage).toMatch(/loopback/);
      expect(target.requests()).toBe(0);
    } finally {
      h.model.call = saved;
      await provider.close();
      await target.close();
    }
  });
});

describe(`tool nodes on ${testBackend()}`, () => {
  it('json_transform runs without a model; http_request refuses a private address unless the org allows it', async () => {
    const run = await h.run(
      {
        name: 'transform',
        input: { type: 'object', properties: { orders: { type: 'array' } } },
        nodes: [
          {
            id: 'sum',
            type: 'tool',
            tool: 'json_transform',
            config: { expression: '$sum(orders.amount)' },
            input: { data: { orders: '{{input.orders}}' } },
          },
        ],
      },
      { orders: [{ amount: 2 }, { amount: 5 }] },
    );
    expect(run.run.status).toBe('completed');
    expect(run.run.outputData).toBe(7);

    const server = createServer((_req, res) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'),
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      const def = {
        name: 'fetch-local',
        nodes: [
          { id: 'get', type: 'tool', tool: 'http_request', config: { url: `http://127.0.0.1:${port}/x` } },
        ],
      };
      const refused = await h.run(def);
      expect(refused.run.status).toBe('failed');
      expect(refused.run.errorMessage).toMatch(/loopback|private|refused/i);
      await h.db.system((tx) =>
        tx.execute(
          sql`UPDATE organizations SET settings = settings || '{"allowPrivateNetworks": true}'::jsonb WHERE id = ${h.orgId}`,
        ),
      );
      // Workers cache an organization's network policy for 30 s: a fresh worker sees the change at once.
      const fresh = await h.addWorker();
      for (const other of h.workers.filter((x) => x !== fresh)) await other.stop(100);
      const allowed = await h.run({ ...def, name: 'fetch-local-2' });
      expect(allowed.run.status).toBe('completed');
      expect(allowed.run.outputData).toMatchObject({ status: 200, body: { ok: true } });
    } finally {
      server.close();
    }
  });
});

describe(`budgets on ${testBackend()}`, () => {
  it('a run with a tiny budget stops before the call that would exceed it; nothing is charged beyond the budget', async () => {
    const budget = 0.35;
    const run = await h.run({
      name: 'budgeted',
      settings: { budgetUsd: budget },
      nodes: ['a', 'b', 'c', 'd'].map((id) => ({
        id,
        type: 'agent',
        agent: { model: 'simulator:echo', prompt: 'four words of prompt', maxTokens: 8 },
      })),
      connections: [
        { from: 'a', to: 'b' },
        { from: 'b', to: 'c' },
        { from: 'c', to: 'd' },
      ],
    });
    expect(run.run.status).toBe('failed');
    expect(run.run.errorCode).toBe('budget_exceeded');
    expect(Number(run.run.estimatedCost)).toBeGreaterThan(0);
    expect(Number(run.run.estimatedCost)).toBeLessThanOrEqual(budget);
    const done = run.detail.attempts.filter((a) => a.status === 'completed');
    expect(done.length).toBeGreaterThan(0);
    expect(done.length).toBeLessThan(4);
    expect(done.reduce((s, a) => s + Number(a.estimatedCost), 0)).toBeCloseTo(
      Number(run.run.estimatedCost),
      6,
    );
    const [org] = await h.db.system((tx) =>
      queryRows<{ spent: string }>(
        tx,
        sql`SELECT monthly_cost_used::text AS spent FROM organizations WHERE id = ${h.orgId}`,
      ),
    );
    expect(Number(org!.spent)).toBeGreaterThanOrEqual(Number(run.run.estimatedCost));
  });

  it("an organization's monthly budget stops runs once it is spent", async () => {
    await h.db.system((tx) =>
      tx.execute(
        sql`UPDATE organizations SET settings = settings || jsonb_build_object('monthlyBudgetUsd', monthly_cost_used) WHERE id = ${h.orgId}`,
      ),
    );
    const run = await h.run({
      name: 'over-org-budget',
      nodes: [{ id: 'a', type: 'agent', agent: { model: 'simulator:echo', prompt: 'hello' } }],
    });
    expect(run.run.status).toBe('failed');
    expect(run.run.errorCode).toBe('budget_exceeded');
    expect(Number(run.run.estimatedCost)).toBe(0);
    await h.db.system((tx) =>
      tx.execute(
        sql`UPDATE organizations SET settings = settings - 'monthlyBudgetUsd' WHERE id = ${h.orgId}`,
      ),
    );
  });

  it("the organization's monthly cost grows by exactly what its steps cost, in the completion's own statement", async () => {
    const spent = () =>
      h.db.system((tx) =>
        queryRows<{ spent: string }>(
          tx,
          sql`SELECT monthly_cost_used::text AS spent FROM organizations WHERE id = ${h.orgId}`,
        ),
      );
    const [before] = await spent();
    // b and c follow a and complete together: one completion statement adds the sum of both.
    const run = await h.run({
      name: 'three-costs',
      nodes: ['a', 'b', 'c'].map((id) => ({
        id,
        type: 'agent',
        agent: { model: 'simulator:echo', prompt: `prompt of ${id}`, maxTokens: 8 },
      })),
      connections: [
        { from: 'a', to: 'b' },
        { from: 'a', to: 'c' },
      ],
    });
    expect(run.run.status).toBe('completed');
    const [check] = await h.db.system((tx) =>
      queryRows<{ delta: string; attempts: string; equal: boolean }>(
        tx,
        sql`SELECT (o.monthly_cost_used - ${before!.spent}::numeric)::text AS delta, a.sum::text AS attempts,
                   o.monthly_cost_used - ${before!.spent}::numeric = a.sum AS equal
            FROM organizations o,
                 (SELECT sum(estimated_cost) AS sum FROM agent_executions WHERE workflow_execution_id = ${run.run.id}) a
            WHERE o.id = ${h.orgId}`,
      ),
    );
    expect(Number(check!.attempts)).toBeGreaterThan(0);
    expect(check).toMatchObject({ equal: true });
    expect(Number(check!.delta)).toBe(Number(run.run.estimatedCost));
  });
});
