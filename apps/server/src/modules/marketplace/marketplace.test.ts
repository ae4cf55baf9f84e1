import { testBackend } from '@aiops/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  addMember,
  call,
  type SignedUp,
  setPlan,
  signUp,
  startTestServer,
  type TestServer,
} from '../../test-support.ts';
import { purchasesForPeriod } from './purchases.ts';

/**
 * The whole journey across organizations: a seller makes an agent from a catalog type, packages it as a
 * template, publishes it at a price; a buyer buys it (fee and payout exact), installs it, runs it, rates it.
 */
let s: TestServer;
let seller: SignedUp;
let buyer: SignedUp;
let other: SignedUp;
const started = new Date();

beforeAll(async () => {
  s = await startTestServer({ worker: true });
  seller = await signUp(s, { organizationName: 'Seller Org' });
  buyer = await signUp(s, { organizationName: 'Buyer Org' });
  other = await signUp(s, { organizationName: 'Other Org' });
});
afterAll(() => s?.close());

const as = (who: SignedUp) => ({
  get: (path: string) => call(s, 'GET', `/api/v1${path}`, { token: who.token }),
  post: (path: string, body: unknown = {}) => call(s, 'POST', `/api/v1${path}`, { token: who.token, body }),
  patch: (path: string, body: unknown) => call(s, 'PATCH', `/api/v1${path}`, { token: who.token, body }),
});

async function runAgent(who: SignedUp, agentId: string, text: string) {
  const wf = await as(who).post('/workflows', {
    definition: { name: `run-${agentId}-${Date.now()}`, nodes: [{ id: 'a', type: 'agent', agentId }] },
  });
  expect(wf.status).toBe(201);
  return as(who).post(`/workflows/${wf.body.id}/runs`, { input: { text }, wait: 20 });
}

async function until<T>(read: () => Promise<T>, ok: (v: T) => boolean): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const v = await read();
    if (ok(v) || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
}

let sellerAgent: Record<string, unknown>;
let template: Record<string, unknown>;
let listingId: string;

describe(`templates and marketplace on ${testBackend()}`, () => {
  it('turns a catalog agent into a template and back, keeping every field; versions every change', async () => {
    const made = await as(seller).post('/agent-types/support_ticket_triage/agents', {
      name: 'Triage',
      params: { product: 'Acme Cloud' },
      config: { model: 'simulator:echo', costLimitPerRequest: 0.5, tools: [] },
    });
    expect(made.status).toBe(201);
    sellerAgent = made.body;
    const t = await as(seller).post('/templates/from-agent', {
      agentId: made.body.id,
      name: 'Ticket Triage Pro',
      capabilities: ['classification', 'reply_drafting'],
      allowedIntegrations: ['simulator'],
    });
    expect(t.status).toBe(201);
    expect(t.body).toMatchObject({
      name: 'Ticket Triage Pro',
      category: 'customer_support',
      systemPrompt: made.body.systemPrompt,
      promptTemplate: 'Ticket:\n{{input.text}}',
      modelConfig: { model: 'simulator:echo', temperature: 0.2, maxTokens: 1000 },
      allowedIntegrations: ['simulator'],
      costLimitPerRequest: '0.50',
      version: 1,
      sourceAgentId: made.body.id,
    });
    const back = await as(seller).post(`/templates/${t.body.id}/agents`, { name: 'Triage again' });
    expect(back.status).toBe(201);
    for (const f of ['model', 'temperature', 'maxTokens', 'systemPrompt', 'promptTemplate', 'tools'])
      expect(back.body.agent[f], f).toEqual(made.body[f]);
    expect(back.body.agent.costLimitPerRequest).toBe(0.5);
    expect(back.body.agent.metadata.template).toMatchObject({ id: t.body.id, version: 1 });

    const u = await as(seller).patch(`/templates/${t.body.id}`, {
      description: 'Classifies tickets and drafts the first reply',
      personalityConfig: { tone: 'warm' },
    });
    expect(u.status).toBe(200);
    expect(u.body.version).toBe(2);
    const versions = await as(seller).get(`/templates/${t.body.id}/versions`);
    expect(versions.body.data.map((v: { version: number }) => v.version)).toEqual([2, 1]);
    expect(versions.body.data[0].content.personalityConfig).toEqual({ tone: 'warm' });
    template = u.body;

    const bad = await as(seller).post('/templates', {
      name: 'x',
      systemPrompt: 's',
      costLimitPerRequest: '1.234',
    });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('costLimitPerRequest');
  });

  it('publishes: a template without a description goes to error, a complete one to published', async () => {
    const bare = await as(seller).post('/templates', {
      name: 'Bare',
      systemPrompt: 'Hi',
      modelConfig: { model: 'simulator:echo' },
    });
    const e = await as(seller).post(`/templates/${bare.body.id}/publish`, { price: '1.00' });
    expect(e.status).toBe(200);
    expect(e.body).toMatchObject({ status: 'error' });
    expect(e.body.lastError).toContain('description');

    const p = await as(seller).post(`/templates/${template.id}/publish`, { price: '9.99' });
    expect(p.body, JSON.stringify(p.body)).toMatchObject({
      status: 'published',
      price: '9.99',
      templateVersion: 2,
      sellerName: 'Seller Org',
    });
    listingId = p.body.id;
    expect((await as(seller).post(`/templates/${template.id}/publish`, { price: '-1' })).status).toBe(400);
    expect((await as(seller).post(`/templates/${template.id}/publish`, { price: '1.001' })).status).toBe(400);
  });

  it('buyers browse and search published listings only, never the private fields', async () => {
    const all = await as(buyer).get('/marketplace/listings');
    expect(all.status).toBe(200);
    const ids = all.body.data.map((l: { id: string }) => l.id);
    expect(ids).toContain(listingId);
    expect(all.body.data.every((l: { status: string }) => l.status === 'published')).toBe(true);
    const listing = all.body.data.find((l: { id: string }) => l.id === listingId);
    expect(listing).toMatchObject({ mine: false, purchased: false, price: '9.99' });
    for (const privateField of [
      'systemPrompt',
      'promptTemplate',
      'modelConfig',
      'functions',
      'knowledgeSources',
    ])
      expect(listing).not.toHaveProperty(privateField);
    expect(JSON.stringify(all.body)).not.toContain('You triage support tickets');

    const q = (query: string) =>
      as(buyer)
        .get(`/marketplace/listings?${query}`)
        .then((r) => r.body.data.map((l: { id: string }) => l.id));
    expect(await q('category=customer_support')).toContain(listingId);
    expect(await q('category=sales')).not.toContain(listingId);
    expect(await q('capability=classification')).toContain(listingId);
    expect(await q('capability=juggling')).not.toContain(listingId);
    expect(await q('maxPrice=5')).not.toContain(listingId);
    expect(await q('maxPrice=9.99')).toContain(listingId);
    expect(await q('q=triage')).toContain(listingId);
    expect(await q('minRating=1')).not.toContain(listingId);
    expect(await q('free=true')).not.toContain(listingId);

    expect((await as(buyer).get(`/templates/${template.id}`)).status).toBe(404);
    expect((await as(buyer).get(`/templates/${template.id}/versions`)).status).toBe(404);
    expect((await as(buyer).post(`/templates/${template.id}/agents`, { name: 'steal' })).status).toBe(404);
  });

  it('purchase: exact fee and payout, idempotent, pending until the seller confirms, then installs', async () => {
    const p = await as(buyer).post(`/marketplace/listings/${listingId}/purchase`);
    expect(p.status).toBe(201);
    expect(p.body).toMatchObject({
      price: '9.99',
      platformFee: '3.00',
      sellerPayout: '6.99',
      paymentStatus: 'pending',
      paymentMethod: 'manual',
      templateVersion: 2,
    });
    expect(p.body.transactionId).toMatch(/^manual_/);
    const again = await as(buyer).post(`/marketplace/listings/${listingId}/purchase`);
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(p.body.id);
    expect(again.body.transactionId).toBe(p.body.transactionId);

    expect((await as(buyer).post(`/marketplace/purchases/${p.body.id}/install`)).status).toBe(409);
    expect((await as(buyer).post(`/marketplace/listings/${listingId}/ratings`, { rating: 5 })).status).toBe(
      403,
    );
    // only the seller confirms; a third organization does not even see the sale
    expect((await as(buyer).post(`/marketplace/sales/${p.body.id}/confirm`)).status).toBe(404);
    expect((await as(other).post(`/marketplace/sales/${p.body.id}/confirm`)).status).toBe(404);
    const c = await as(seller).post(`/marketplace/sales/${p.body.id}/confirm`);
    expect(c.body.paymentStatus).toBe('completed');
    expect(c.body.completedAt).not.toBeNull();

    const i = await as(buyer).post(`/marketplace/purchases/${p.body.id}/install`);
    expect(i.status).toBe(200);
    expect(i.body.template).toMatchObject({
      name: 'Ticket Triage Pro',
      systemPrompt: sellerAgent.systemPrompt,
      allowedIntegrations: ['simulator'],
      costLimitPerRequest: '0.50',
      sourceListingId: listingId,
      version: 1,
    });
    const twice = await as(buyer).post(`/marketplace/purchases/${p.body.id}/install`);
    expect(twice.body.template.id).toBe(i.body.template.id);
    const copy = i.body.template.id as string;
    expect((await as(buyer).patch(`/templates/${copy}`, { allowedIntegrations: [] })).status).toBe(400);
    expect((await as(buyer).post(`/templates/${copy}/publish`, { price: '1' })).status).toBe(400);

    // installed as an agent: the template's allowed integrations hold at creation and at every run
    const wrong = await as(buyer).post(`/templates/${copy}/agents`, {
      name: 'B',
      model: 'openai:gpt-4o-mini',
    });
    expect(wrong.status).toBe(400);
    expect(wrong.body.error.message).toContain('simulator');
    const agent = await as(buyer).post(`/templates/${copy}/agents`, { name: 'Bought triage' });
    expect(agent.status).toBe(201);
    const run = await runAgent(buyer, agent.body.agent.id, 'My invoice is wrong');
    expect(run.body.status, JSON.stringify(run.body)).toBe('completed');
    expect(run.body.output).toContain('My invoice is wrong');
    const used = await until(
      () => as(seller).get(`/templates/${template.id}`),
      (r) => r.body.listing && r.body.usageCount >= 0,
    );
    expect(used.status).toBe(200);
    const listing = await until(
      () => as(buyer).get(`/marketplace/listings/${listingId}`),
      (r) => r.body.listing.usageCount >= 1,
    );
    expect(listing.body.listing.usageCount).toBe(1);
    expect(listing.body.listing.purchased).toBe(true);
    const tried = await as(buyer).post(`/agents/${agent.body.agent.id}/try`, { input: { text: 'hi' } });
    expect(tried.status).toBe(200);
    const copyRow = await as(buyer).get(`/templates/${copy}`);
    expect(copyRow.body.usageCount).toBeGreaterThanOrEqual(2);

    // the agent's own fields change; the template's limits do not
    await as(buyer).patch(`/agents/${agent.body.agent.id}`, { model: 'openai:gpt-4o-mini' });
    const refused = await runAgent(buyer, agent.body.agent.id, 'x');
    expect(refused.body.status).toBe('failed');
    expect(refused.body.error.code).toBe('integration_not_allowed');
    const t2 = await as(buyer).post(`/agents/${agent.body.agent.id}/try`, { input: { text: 'hi' } });
    expect(t2.status).toBe(403);
  });

  it("the template's cost limit per request holds even when the agent's own is raised", async () => {
    const t = await as(seller).post('/templates', {
      name: 'Capped',
      systemPrompt: 'Be brief.',
      modelConfig: { model: 'simulator:echo' },
      costLimitPerRequest: '0.00',
    });
    const a = await as(seller).post(`/templates/${t.body.id}/agents`, { name: 'Capped agent' });
    await as(seller).patch(`/agents/${a.body.agent.id}`, { costLimitPerRequest: 100 });
    const run = await runAgent(seller, a.body.agent.id, 'x');
    expect(run.body.status).toBe('failed');
    expect(run.body.error.code).toBe('budget_exceeded');
  });

  it('ratings: one per user (a second replaces the first), averages exact under concurrent ratings', async () => {
    const first = await as(buyer).post(`/marketplace/listings/${listingId}/ratings`, {
      rating: 2,
      review: 'meh',
    });
    expect(first.status).toBe(200);
    const second = await as(buyer).post(`/marketplace/listings/${listingId}/ratings`, {
      rating: 4,
      review: 'Good after all',
    });
    expect(second.body.listing).toMatchObject({ rating: '4.00', ratingCount: 1 });
    expect((await as(buyer).post(`/marketplace/listings/${listingId}/ratings`, { rating: 6 })).status).toBe(
      400,
    );
    expect((await as(seller).post(`/marketplace/listings/${listingId}/ratings`, { rating: 5 })).status).toBe(
      400,
    );
    expect((await as(other).post(`/marketplace/listings/${listingId}/ratings`, { rating: 1 })).status).toBe(
      403,
    );

    // Eleven people (the owner and ten raters) need more seats than the starter plan's three.
    await setPlan(s, buyer, 'business');
    const members = await Promise.all(Array.from({ length: 10 }, () => addMember(s, buyer, 'member')));
    const given = [5, 1, 3, 5, 2, 5, 4, 4, 1, 3];
    const results = await Promise.all(
      members.map((m, i) => as(m).post(`/marketplace/listings/${listingId}/ratings`, { rating: given[i] })),
    );
    expect(results.map((r) => r.status)).toEqual(given.map(() => 200));
    const all = [4, ...given];
    const d = await as(other).get(`/marketplace/listings/${listingId}`);
    expect(d.body.listing.ratingCount).toBe(all.length);
    expect(d.body.listing.rating).toBe((all.reduce((a, b) => a + b, 0) / all.length).toFixed(2));
    expect(d.body.ratings.length).toBe(all.length);
    expect(d.body.ratings.some((r: { review: string }) => r.review === 'Good after all')).toBe(true);
  });

  it('0.01 and free listings; refunds; the seller sees sales and payouts; billing reads purchases', async () => {
    const cheap = await as(seller).post('/templates', {
      name: 'Penny',
      description: 'Costs a cent',
      systemPrompt: 'Hi',
      modelConfig: { model: 'simulator:echo' },
    });
    const l = await as(seller).post(`/templates/${cheap.body.id}/publish`, { price: '0.01' });
    const p = await as(buyer).post(`/marketplace/listings/${l.body.id}/purchase`, {
      idempotencyKey: 'penny-1',
    });
    expect(p.body).toMatchObject({ price: '0.01', platformFee: '0.00', sellerPayout: '0.01' });

    const free = await as(seller).post('/templates', {
      name: 'Gratis',
      description: 'Free',
      systemPrompt: 'Hi',
      modelConfig: { model: 'simulator:echo' },
    });
    const fl = await as(seller).post(`/templates/${free.body.id}/publish`, { price: '0' });
    const fp = await as(other).post(`/marketplace/listings/${fl.body.id}/purchase`);
    expect(fp.body).toMatchObject({ price: '0.00', paymentStatus: 'completed' });
    expect(fp.body.installedTemplateId).not.toBeNull();

    const sales = await as(seller).get('/marketplace/sales');
    expect(sales.body.totals).toEqual({
      sales: 2,
      gross: '9.99',
      platformFees: '3.00',
      payouts: '6.99',
      pendingPayouts: '0.01',
      refunded: '0.00',
    });
    const big = sales.body.data.find((x: { price: string }) => x.price === '9.99');
    const r = await as(seller).post(`/marketplace/sales/${big.id}/refund`);
    expect(r.body.paymentStatus).toBe('refunded');
    expect((await as(seller).post(`/marketplace/sales/${big.id}/refund`)).body.paymentStatus).toBe(
      'refunded',
    );
    expect((await as(buyer).post(`/marketplace/sales/${big.id}/refund`)).status).toBe(404);
    const after = await as(seller).get('/marketplace/sales');
    expect(after.body.totals).toMatchObject({ sales: 1, gross: '0.00', payouts: '0.00', refunded: '9.99' });

    const mine = await as(buyer).get('/marketplace/purchases');
    expect(mine.body.data.map((x: { price: string }) => x.price).sort()).toEqual(['0.01', '9.99']);
    expect((await as(other).get('/marketplace/purchases')).body.data).toHaveLength(1);

    const billed = await purchasesForPeriod(
      s.database.db,
      buyer.organizationId,
      started,
      new Date(Date.now() + 1000),
    );
    expect(billed.map((x) => [x.price, x.platformFee, x.paymentStatus])).toEqual([
      ['9.99', '3.00', 'refunded'],
      ['0.01', '0.00', 'pending'],
    ]);
    expect(await purchasesForPeriod(s.database.db, buyer.organizationId, new Date(0), started)).toEqual([]);
  });

  it('unpublished listings disappear for other organizations; buyers keep what they bought', async () => {
    const u = await as(seller).post(`/templates/${template.id}/unpublish`);
    expect(u.body.status).toBe('unpublished');
    const ids = (await as(other).get('/marketplace/listings')).body.data.map((l: { id: string }) => l.id);
    expect(ids).not.toContain(listingId);
    expect((await as(other).get(`/marketplace/listings/${listingId}`)).status).toBe(404);
    expect((await as(other).post(`/marketplace/listings/${listingId}/purchase`)).status).toBe(404);
    const kept = await as(buyer).get('/templates');
    expect(kept.body.data.some((t: { sourceListingId: string }) => t.sourceListingId === listingId)).toBe(
      true,
    );
    const del = await call(s, 'DELETE', `/api/v1/templates/${template.id}`, { token: seller.token });
    expect(del.status).toBe(409);
  });
});
