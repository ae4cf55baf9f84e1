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

const override = {
  model: 'simulator:*',
  effectiveFrom: '2020-01-01',
  input: '1000',
  output: '2000',
  note: 'negotiated',
};

describe('prices', () => {
  it('lists the catalog with its version; an override wins over it and is audited', async () => {
    const list = await call(s, 'GET', '/api/v1/prices?model=gpt-4o-mini', { token: owner.token });
    expect(list.status).toBe(200);
    expect(list.body.catalogVersion).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(list.body.catalog.map((p: { model: string }) => p.model)).toContain('openai:gpt-4o-mini');
    // A model priced in two periods is listed twice, each with its period, and one is current.
    const all = await call(s, 'GET', '/api/v1/prices', { token: owner.token });
    const o3 = all.body.catalog.filter((p: { model: string }) => p.model === 'openai:o3');
    expect(o3.length).toBeGreaterThan(1);
    expect(new Set(o3.map((p: { effectiveFrom: string }) => p.effectiveFrom)).size).toBe(o3.length);
    expect(o3.filter((p: { current: boolean }) => p.current)).toHaveLength(1);
    const today = new Date().toISOString().slice(0, 10);
    for (const p of all.body.catalog as { effectiveFrom: string; effectiveTo?: string; current: boolean }[])
      expect(p.current).toBe(p.effectiveFrom <= today && (!p.effectiveTo || today < p.effectiveTo));

    const before = await call(s, 'GET', '/api/v1/prices/resolve?model=openai:gpt-4o-mini', {
      token: owner.token,
    });
    expect(before.body.source).toBe('catalog');
    const created = await call(s, 'POST', '/api/v1/prices', {
      token: owner.token,
      body: { model: 'openai:gpt-4o-mini', effectiveFrom: '2024-01-01', input: '0.1', output: '0.4' },
    });
    expect(created.status).toBe(201);
    const after = await call(s, 'GET', '/api/v1/prices/resolve?model=openai:gpt-4o-mini', {
      token: owner.token,
    });
    expect(after.body).toMatchObject({ source: 'override', price: { input: '0.1', output: '0.4' } });
    // another organization still pays the catalog price, and cannot see or change this override
    const theirs = await call(s, 'GET', '/api/v1/prices/resolve?model=openai:gpt-4o-mini', {
      token: other.token,
    });
    expect(theirs.body.source).toBe('catalog');
    const steal = await call(s, 'DELETE', `/api/v1/prices/${created.body.id}`, { token: other.token });
    expect(steal.status).toBe(404);

    const audit = await call(s, 'GET', '/api/v1/audit-logs?entityType=model_price', { token: owner.token });
    expect(audit.body.data[0]).toMatchObject({ action: 'created', entityId: created.body.id });

    const dup = await call(s, 'POST', '/api/v1/prices', {
      token: owner.token,
      body: { model: 'openai:gpt-4o-mini', effectiveFrom: '2024-01-01', input: '1', output: '1' },
    });
    expect(dup.status).toBe(409);
    expect(dup.body.error.message).toMatch(/exists/);
    const gone = await call(s, 'DELETE', `/api/v1/prices/${created.body.id}`, { token: owner.token });
    expect(gone.status).toBe(204);
  });

  it('refuses bad prices with a message that names the field', async () => {
    const bad = await call(s, 'POST', '/api/v1/prices', {
      token: owner.token,
      body: { model: 'gpt-4o', effectiveFrom: '2024-13', input: '-1', output: 'free' },
    });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toMatch(/model/);
    expect(JSON.stringify(bad.body)).toMatch(/effectiveFrom/);
    expect(JSON.stringify(bad.body)).toMatch(/input/);
  });

  it('a run is priced with the override: cost per step and run', async () => {
    const created = await call(s, 'POST', '/api/v1/prices', { token: owner.token, body: override });
    expect(created.status).toBe(201);
    const wf = await call(s, 'POST', '/api/v1/workflows', {
      token: owner.token,
      body: {
        name: 'priced',
        status: 'active',
        definition: {
          name: 'priced',
          nodes: [{ id: 'a', type: 'agent', agent: { model: 'simulator:echo', prompt: 'one two three' } }],
        },
      },
    });
    expect(wf.status).toBe(201);
    const run = await call(s, 'POST', `/api/v1/workflows/${wf.body.id}/runs`, {
      token: owner.token,
      body: { input: {}, wait: 10 },
    });
    expect(run.status).toBe(201);
    const detail = await call(s, 'GET', `/api/v1/runs/${run.body.id}`, { token: owner.token });
    const attempt = detail.body.steps[0].attempts.at(-1);
    expect(attempt.tokens.total).toBeGreaterThan(0);
    const expected = (attempt.tokens.input * 1000 + attempt.tokens.output * 2000) / 1e6;
    expect(attempt.cost).toBeCloseTo(expected, 6);
    expect(detail.body.cost).toBeCloseTo(expected, 6);
  });

  it("an organization's monthly budget, set through the API, stops a run before the call that would exceed it", async () => {
    const set = await call(s, 'PATCH', '/api/v1/organization', {
      token: owner.token,
      body: { settings: { monthlyBudgetUsd: 0.000001 } },
    });
    expect(set.status).toBe(200);
    expect(set.body.settings).toEqual({ allowPrivateNetworks: false, monthlyBudgetUsd: 0.000001 });
    const wf = await call(s, 'POST', '/api/v1/workflows', {
      token: owner.token,
      body: {
        name: 'over budget',
        status: 'active',
        definition: {
          name: 'over budget',
          nodes: [{ id: 'a', type: 'agent', agent: { model: 'simulator:echo', prompt: 'spend money' } }],
        },
      },
    });
    const run = await call(s, 'POST', `/api/v1/workflows/${wf.body.id}/runs`, {
      token: owner.token,
      body: { input: {}, wait: 10 },
    });
    expect(run.body.status).toBe('failed');
    expect(run.body.error.code).toBe('budget_exceeded');
    expect(run.body.cost).toBe(0);
    const cleared = await call(s, 'PATCH', '/api/v1/organization', {
      token: owner.token,
      body: { settings: { monthlyBudgetUsd: null } },
    });
    expect(cleared.body.settings.monthlyBudgetUsd).toBeNull();
    const typo = await call(s, 'PATCH', '/api/v1/organization', {
      token: owner.token,
      body: { settings: { monthlyBudget: 5 } },
    });
    expect(typo.status).toBe(400);
    expect(JSON.stringify(typo.body)).toMatch(/monthlyBudget/);
  });

  it('reports cost by workflow, model and day; the total is the sum', async () => {
    const byWorkflow = await call(s, 'GET', '/api/v1/costs?groupBy=workflow', { token: owner.token });
    expect(byWorkflow.status).toBe(200);
    const priced = byWorkflow.body.groups.find((g: { name: string }) => g.name === 'priced');
    expect(priced.cost).toBeGreaterThan(0);
    expect(priced).toMatchObject({ calls: 1, runs: 1 });
    const sum = byWorkflow.body.groups.reduce((a: number, g: { cost: number }) => a + g.cost, 0);
    expect(byWorkflow.body.total.cost).toBeCloseTo(sum, 9);
    const byModel = await call(s, 'GET', '/api/v1/costs?groupBy=model', { token: owner.token });
    expect(byModel.body.groups.map((g: { key: string }) => g.key)).toContain('simulator:echo');
    const byDay = await call(s, 'GET', '/api/v1/costs?groupBy=day', { token: owner.token });
    expect(byDay.body.groups[0].key).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    const theirs = await call(s, 'GET', '/api/v1/costs', { token: other.token });
    expect(theirs.body.total).toEqual({ cost: 0, tokens: 0, calls: 0, runs: 0 });
    const bad = await call(s, 'GET', '/api/v1/costs?groupBy=planet', { token: owner.token });
    expect(bad.status).toBe(400);
  });
});
