import { terminologyEntries } from '@aiops/db';
import { testBackend } from '@aiops/testing';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  addMember,
  call,
  type SignedUp,
  signUp,
  startTestServer,
  type TestServer,
} from '../../test-support.ts';

let s: TestServer;
let owner: SignedUp;
let member: SignedUp;
beforeAll(async () => {
  s = await startTestServer({ worker: true });
  owner = await signUp(s);
  member = await addMember(s, owner, 'member');
});
afterAll(() => s?.close());

const api = (method: string, path: string, body?: unknown, token = owner.token) =>
  call(s, method, `/api/v1${path}`, { token, ...(body === undefined ? {} : { body }) });

describe(`terminology on ${testBackend()}`, () => {
  it('CRUD; private entries are visible to their author only (row-level security), public ones to the organization', async () => {
    const pub = await api('POST', '/terminology', {
      term: 'SLA',
      definition: 'Service level agreement: the uptime promised to customers.',
      context: 'business',
      tags: ['ops'],
      usageExamples: ['Our SLA is 99.9%.'],
      isPublic: true,
    });
    expect(pub.status, JSON.stringify(pub.body)).toBe(201);
    const priv = await api('POST', '/terminology', {
      term: 'Blue moon deploy',
      definition: 'My own name for a release on the last Friday.',
      relatedTerms: [pub.body.id],
      context: 'personal',
    });
    expect(priv.status, JSON.stringify(priv.body)).toBe(201);
    expect(priv.body.isPublic).toBe(false);
    const got = await api('GET', `/terminology/${priv.body.id}`);
    expect(got.body.related).toEqual([{ id: pub.body.id, term: 'SLA' }]);

    // another user of the same organization: sees the public entry, not the private one
    expect((await api('GET', `/terminology/${pub.body.id}`, undefined, member.token)).status).toBe(200);
    expect((await api('GET', `/terminology/${priv.body.id}`, undefined, member.token)).status).toBe(404);
    expect(
      (await api('PATCH', `/terminology/${priv.body.id}`, { definition: 'x' }, member.token)).status,
    ).toBe(404);
    expect((await api('DELETE', `/terminology/${priv.body.id}`, undefined, member.token)).status).toBe(404);
    const theirs = await api('GET', '/terminology', undefined, member.token);
    expect(theirs.body.data.map((t: { term: string }) => t.term)).toEqual(['SLA']);
    const search = await api('GET', '/terminology/search?q=blue%20moon%20deploy', undefined, member.token);
    expect(search.body.data).toHaveLength(0);
    // a member may not turn someone else's public entry private
    expect(
      (await api('PATCH', `/terminology/${pub.body.id}`, { isPublic: false }, member.token)).status,
    ).toBe(403);
    // nor link a private entry they cannot see
    const link = await api(
      'POST',
      '/terminology',
      { term: 'x', definition: 'y', relatedTerms: [priv.body.id] },
      member.token,
    );
    expect(link.status).toBe(400);

    const upd = await api('PATCH', `/terminology/${pub.body.id}`, {
      definition: 'Service level agreement.',
      tags: ['ops', 'legal'],
    });
    expect(upd.body).toMatchObject({ definition: 'Service level agreement.', tags: ['ops', 'legal'] });
    expect((await api('GET', '/terminology?tag=legal')).body.data).toHaveLength(1);
    expect((await api('GET', '/terminology?context=personal')).body.data).toHaveLength(1);
    expect((await api('POST', '/terminology', { term: '', definition: 'x' })).status).toBe(400);
    const audit = await api('GET', '/audit-logs?entityType=terminology_entry');
    expect(audit.body.data.length).toBeGreaterThanOrEqual(3);
  });

  it('at the database: another organization sees nothing, another user no private entries', async () => {
    const db = s.database.db;
    const other = await signUp(s);
    const rowsOf = (organizationId: string, userId: string) =>
      db.withTenant({ organizationId, userId }, (tx) => tx.select().from(terminologyEntries));
    const mine = await rowsOf(owner.organizationId, owner.userId);
    expect(mine.some((r) => !r.isPublic)).toBe(true);
    expect(await rowsOf(other.organizationId, other.userId)).toHaveLength(0);
    const theirs = await rowsOf(owner.organizationId, member.userId);
    expect(theirs.length).toBeGreaterThan(0);
    expect(theirs.every((r) => r.isPublic)).toBe(true);
    // writing a private row for someone else is refused by the policy
    await expect(
      db.withTenant({ organizationId: owner.organizationId, userId: member.userId }, (tx) =>
        tx.insert(terminologyEntries).values({
          organizationId: owner.organizationId,
          userId: owner.userId,
          term: 'forged',
          definition: 'x',
          isPublic: false,
        }),
      ),
    ).rejects.toThrow();
  });

  it('hybrid search ranks exact over full-text and fuzzy over semantic-only on a fixed corpus', async () => {
    const corpus = [
      { term: 'Kubernetes', definition: 'Container orchestration system.' },
      { term: 'Kubernetes operator', definition: 'A controller that manages an application on a cluster.' },
      { term: 'Kubernetis', definition: 'A common misspelling.' },
      { term: 'Swarm', definition: "Docker's containers clustering." },
      { term: 'Invoice', definition: 'A bill sent to a customer.' },
    ];
    const imp = await api('POST', '/terminology/import', {
      format: 'json',
      data: JSON.stringify(corpus),
      isPublic: true,
    });
    expect(imp.status, JSON.stringify(imp.body)).toBe(200);
    const r = await api('GET', '/terminology/search?q=Kubernetes');
    const terms = r.body.data.map((h: { entry: { term: string } }) => h.entry.term);
    expect(terms[0]).toBe('Kubernetes');
    expect(r.body.data[0].match.exact).toBe(true);
    expect(terms).toContain('Kubernetes operator');
    const fuzzy = r.body.data.find((h: { entry: { term: string } }) => h.entry.term === 'Kubernetis');
    expect(fuzzy.match).toMatchObject({ exact: false, fullText: null });
    expect(fuzzy.match.fuzzy).toBeGreaterThan(0.3);
    expect(terms).not.toContain('Invoice');

    const sem = await api('GET', '/terminology/search?q=orchestration%20of%20containers');
    const hits = sem.body.data as {
      entry: { term: string };
      score: number;
      match: Record<string, unknown>;
    }[];
    expect(hits[0]!.entry.term).toBe('Kubernetes'); // full-text
    const swarm = hits.find((h) => h.entry.term === 'Swarm')!;
    expect(swarm.match).toMatchObject({ exact: false, fullText: null, fuzzy: null });
    expect(swarm.match.semantic).toBeGreaterThan(0.15);
    expect(hits.indexOf(swarm)).toBeGreaterThan(0);
    expect(hits[0]!.score).toBeGreaterThan(swarm.score);
    const noSem = await api('GET', '/terminology/search?q=orchestration%20of%20containers&semantic=false');
    expect(noSem.body.data.map((h: { entry: { term: string } }) => h.entry.term)).not.toContain('Swarm');
  });

  it('imports and exports CSV and JSON with related terms by name', async () => {
    const csv =
      'term,definition,context,tags,usage_examples,related_terms,is_public\n' +
      'Churn,"Customers who leave, per month",business,metrics|growth,Churn rose.,Retention,true\n' +
      'Retention,Customers who stay,business,metrics,,Churn,true\n';
    const r = await api('POST', '/terminology/import', { format: 'csv', data: csv });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body).toEqual({ created: 2, updated: 0 });
    const again = await api('POST', '/terminology/import', { format: 'csv', data: csv });
    expect(again.body).toEqual({ created: 0, updated: 2 });
    const bad = await api('POST', '/terminology/import', {
      format: 'csv',
      data: 'term,definition\n,missing\n',
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/row 1/);
    const out = await s.request('/api/v1/terminology/export?format=csv', {
      headers: { authorization: `Bearer ${owner.token}` },
    });
    expect(out.headers.get('content-type')).toMatch(/text\/csv/);
    const text = await out.text();
    expect(text).toContain(
      'Churn,"Customers who leave, per month",business,metrics|growth,Churn rose.,Retention,true',
    );
    const json = await api('GET', '/terminology/export?format=json');
    const churn = (json.body as { term: string; relatedTerms: string[] }[]).find((t) => t.term === 'Churn')!;
    expect(churn.relatedTerms).toEqual(['Retention']);
  });

  it('glossary injection: terms a prompt uses (inflected too) go into the system prompt within the token budget, and count as used', async () => {
    await api('POST', '/terminology', {
      term: 'deployment',
      definition: 'Putting a release into production.',
      isPublic: true,
    });
    await api('POST', '/terminology', {
      term: 'rollback',
      definition: 'Returning to the previous release. '.repeat(30),
      isPublic: true,
    });
    const c = await api('POST', '/conversations', {
      participants: [{ model: 'simulator:echo' }],
      settings: { glossary: { enabled: true, tokenBudget: 60 } },
    });
    const r = await api('POST', `/conversations/${c.body.id}/messages`, {
      content: 'Two deployments failed, then a rollback.',
    });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const answer = r.body.answers[0].content as string;
    expect(answer).toContain('Glossary');
    expect(answer).toContain('- deployment: Putting a release into production.');
    expect(answer).not.toContain('- rollback'); // its definition does not fit in 60 tokens
    const list = await api('GET', '/terminology?limit=500');
    const dep = list.body.data.find((t: { term: string }) => t.term === 'deployment');
    const rb = list.body.data.find((t: { term: string }) => t.term === 'rollback');
    expect(dep.frequency).toBe(1);
    expect(dep.lastUsedAt).not.toBeNull();
    expect(rb.frequency).toBe(0);
    // semantically close (no word of the term in the prompt, most of its definition's words)
    await api('POST', '/terminology', {
      term: 'on-call rotation',
      definition: 'who answers pages at night',
      isPublic: true,
    });
    const near = await api('POST', `/conversations/${c.body.id}/messages`, {
      content: 'Who answers the pages at night?',
    });
    expect(near.body.answers[0].content).toContain('- on-call rotation: who answers pages at night');
    const preview = await api('POST', '/terminology/glossary', { text: 'one deployment', tokenBudget: 60 });
    expect(preview.body.termIds).toEqual([dep.id]);
    expect(
      (await api('GET', '/terminology?limit=500')).body.data.find(
        (t: { term: string }) => t.term === 'deployment',
      ).frequency,
    ).toBe(1);
  });

  it("an agent with the glossary on gets the organization's public terms in a workflow step's system prompt", async () => {
    await api('POST', '/terminology', {
      term: 'canary release',
      definition: 'A release to a few users first.',
      isPublic: true,
    });
    await api('POST', '/terminology', { term: 'canary secret', definition: 'Only mine.' });
    const agent = await api('POST', '/agents', {
      name: 'Explainer',
      model: 'simulator:echo',
      systemPrompt: 'Explain.',
      promptTemplate: '{{input.text}}',
      memoryConfig: { glossary: { enabled: true, tokenBudget: 200 } },
    });
    expect(agent.status, JSON.stringify(agent.body)).toBe(201);
    const wf = await api('POST', '/workflows', {
      name: 'explain',
      status: 'active',
      definition: { name: 'explain', nodes: [{ id: 'x', type: 'agent', agentId: agent.body.id }] },
    });
    expect(wf.status, JSON.stringify(wf.body)).toBe(201);
    const run = await api('POST', `/workflows/${wf.body.id}/runs`, {
      input: { text: 'Plan two canary releases and keep the canary secret.' },
      wait: 30,
    });
    expect(run.body.status, JSON.stringify(run.body)).toBe('completed');
    const detail = await api('GET', `/runs/${run.body.id}`);
    const system = detail.body.steps[0].attempts[0].input.system as string;
    expect(system).toContain('Explain.');
    expect(system).toContain('- canary release: A release to a few users first.');
    expect(system).not.toContain('Only mine.'); // a workflow step sees public entries only

    // The studio's try-it panel sends what a run sends: the same system prompt, glossary included.
    const before = await s.database.db.system((tx) =>
      tx
        .select({ frequency: terminologyEntries.frequency })
        .from(terminologyEntries)
        .where(eq(terminologyEntries.term, 'canary release')),
    );
    const tried = await api('POST', `/agents/${agent.body.id}/try`, {
      input: { text: 'Plan two canary releases and keep the canary secret.' },
    });
    expect(tried.status, JSON.stringify(tried.body)).toBe(200);
    expect(tried.body.system).toBe(system);
    expect(tried.body.text).toBe(`${system}\n\nPlan two canary releases and keep the canary secret.`);
    const after = await s.database.db.system((tx) =>
      tx
        .select({ frequency: terminologyEntries.frequency })
        .from(terminologyEntries)
        .where(eq(terminologyEntries.term, 'canary release')),
    );
    expect(after[0]!.frequency).toBe(before[0]!.frequency + 1);
  });
});
