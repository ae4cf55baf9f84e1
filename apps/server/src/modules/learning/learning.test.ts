import { learningPatterns } from '@aiops/db';
import { testBackend } from '@aiops/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type JobDeps, runJobNow } from '../../jobs/index.ts';
import {
  addMember,
  call,
  type SignedUp,
  signUp,
  startTestServer,
  type TestServer,
} from '../../test-support.ts';
import { observeEvaluation } from './learn.ts';
import { learningJob } from './workflow-patterns.ts';

let s: TestServer;
let owner: SignedUp;
beforeAll(async () => {
  s = await startTestServer({ worker: true });
  owner = await signUp(s);
});
afterAll(() => s?.close());

const api = (method: string, path: string, body?: unknown, token = owner.token) =>
  call(s, method, `/api/v1${path}`, { token, ...(body === undefined ? {} : { body }) });

describe(`learning on ${testBackend()}`, () => {
  it('ratings and evaluation scores update model preferences; the recommendation says why', async () => {
    const c = await api('POST', '/conversations', {
      mode: 'multi',
      participants: [
        { id: 'echo', model: 'simulator:echo' },
        { id: 'json', model: 'simulator:json', simulate: { output: 'a fixed answer' } },
      ],
      settings: { taskKind: 'support' },
    });
    expect(c.status, JSON.stringify(c.body)).toBe(201);
    for (let i = 0; i < 3; i++) {
      const r = await api('POST', `/conversations/${c.body.id}/messages`, { content: `question ${i}` });
      const by = Object.fromEntries(
        r.body.answers.map((a: { senderId: string; id: string }) => [a.senderId, a.id]),
      );
      expect(
        (await api('POST', `/conversations/${c.body.id}/messages/${by.echo}/rating`, { score: 5 })).status,
      ).toBe(200);
      // first rated 👍, then changed to 👎: the change replaces the earlier rating
      await api('POST', `/conversations/${c.body.id}/messages/${by.json}/rating`, { thumbs: 'up' });
      await api('POST', `/conversations/${c.body.id}/messages/${by.json}/rating`, { thumbs: 'down' });
    }
    const patterns = await api('GET', '/learning/patterns?type=ai_preference');
    const echo = patterns.body.data.find((p: { key: string }) => p.key === 'support|simulator:echo');
    const json = patterns.body.data.find((p: { key: string }) => p.key === 'support|simulator:json');
    expect(echo.data).toMatchObject({ answers: 3, completed: 3, ratings: 3, ratingSum: 3 });
    expect(json.data).toMatchObject({ answers: 3, ratings: 3, ratingSum: 0 });
    expect(echo.occurrences).toBe(3);
    expect(echo.confidence).toBeCloseTo(3 / 13, 4);

    let rec = await api('GET', '/learning/recommendations?task=support');
    expect(rec.body.recommended).toBe('simulator:echo');
    expect(rec.body.candidates[0]).toMatchObject({
      model: 'simulator:echo',
      quality: 1,
      samples: { answers: 3, ratings: 3, evaluations: 0 },
      successRate: 1,
    });
    expect(rec.body.candidates[1]).toMatchObject({ model: 'simulator:json', quality: 0 });
    expect(rec.body.scope).toBe('user');
    expect(rec.body.reason).toMatch(/^simulator:echo: quality 1 from 3 rating.*; counting your ratings$/);

    // evaluation scores (the evaluation feature's seam) count as quality evidence too
    await s.database.db.withTenant(owner.organizationId, async (tx) => {
      for (let i = 0; i < 20; i++)
        await observeEvaluation(tx, { taskKind: 'support', model: 'simulator:json', score: 1 });
    });
    rec = await api('GET', '/learning/recommendations?task=support');
    expect(rec.body.recommended).toBe('simulator:json');
    expect(rec.body.candidates[0].samples.evaluations).toBe(20);
    expect((await api('GET', '/learning/recommendations?task=unknown')).body).toMatchObject({
      recommended: null,
      candidates: [],
    });
  });

  it('learns recurring workflow step sequences incrementally', async () => {
    const mk = async (name: string) =>
      (await api('POST', '/agents', { name, model: 'simulator:echo', promptTemplate: '{{input.t}}' })).body
        .id as string;
    const a = await mk('Classify');
    const b = await mk('Reply');
    const wf = await api('POST', '/workflows', {
      name: 'triage',
      status: 'active',
      definition: {
        name: 'triage',
        nodes: [
          { id: 'a', type: 'agent', agentId: a },
          { id: 'b', type: 'agent', agentId: b },
        ],
        connections: [{ from: 'a', to: 'b' }],
      },
    });
    expect(wf.status, JSON.stringify(wf.body)).toBe(201);
    for (let i = 0; i < 2; i++)
      expect(
        (await api('POST', `/workflows/${wf.body.id}/runs`, { input: { t: 'x' }, wait: 30 })).body.status,
      ).toBe('completed');
    expect((await api('POST', '/learning/refresh')).body).toMatchObject({ runs: 2 });
    expect((await api('POST', '/learning/refresh')).body).toEqual({ runs: 0, sequences: 0 });
    await api('POST', `/workflows/${wf.body.id}/runs`, { input: { t: 'y' }, wait: 30 });
    // the job reads only the database; run twice for the same due time, it counts once
    const deps = { db: s.database.db } as JobDeps;
    const due = new Date();
    await runJobNow(learningJob, deps, due);
    await runJobNow(learningJob, deps, due);
    const p = await api('GET', '/learning/patterns?type=workflow_pattern');
    const seq = p.body.data.find((x: { key: string }) => x.key === 'agent:Classify → agent:Reply');
    expect(seq, JSON.stringify(p.body.data)).toBeDefined();
    expect(seq.occurrences).toBe(3);
    expect(seq.data.workflows).toEqual([wf.body.id]);
    expect(p.body.data.some((x: { key: string }) => x.key.startsWith('$'))).toBe(false);
  });

  it('glossary use shows as terminology_usage', async () => {
    const t = await api('POST', '/terminology', {
      term: 'runbook',
      definition: 'Steps for an incident.',
      isPublic: true,
    });
    const c = await api('POST', '/conversations', {
      participants: [{ model: 'simulator:echo' }],
      settings: { glossary: { enabled: true } },
    });
    await api('POST', `/conversations/${c.body.id}/messages`, { content: 'Open the runbooks' });
    await api('POST', `/conversations/${c.body.id}/messages`, { content: 'Which runbook?' });
    const p = await api('GET', '/learning/patterns?type=terminology_usage');
    expect(p.body.data[0]).toMatchObject({
      key: t.body.id,
      occurrences: 2,
      data: { term: 'runbook', uses: 2, bySource: { conversation: 2 } },
    });
  });

  it("model preferences per user: each member's own ratings decide their recommendation; others' stay private", async () => {
    const member = await addMember(s, owner, 'member');
    const rateAll = async (token: string, like: string) => {
      const c = await api(
        'POST',
        '/conversations',
        {
          mode: 'multi',
          participants: [
            { id: 'echo', model: 'simulator:echo' },
            { id: 'json', model: 'simulator:json', simulate: { output: 'fixed' } },
          ],
          settings: { taskKind: 'naming' },
        },
        token,
      );
      expect(c.status, JSON.stringify(c.body)).toBe(201);
      for (let i = 0; i < 2; i++) {
        const r = await api('POST', `/conversations/${c.body.id}/messages`, { content: `name ${i}` }, token);
        for (const a of r.body.answers as { senderId: string; id: string }[]) {
          const score = a.senderId === like ? 5 : 1;
          const rated = await api(
            'POST',
            `/conversations/${c.body.id}/messages/${a.id}/rating`,
            { score },
            token,
          );
          expect(rated.status).toBe(200);
        }
      }
    };
    await rateAll(owner.token, 'echo');
    await rateAll(member.token, 'json');
    await rateAll(member.token, 'json');
    const mine = await api('GET', '/learning/recommendations?task=naming');
    expect(mine.body).toMatchObject({ scope: 'user', recommended: 'simulator:echo' });
    expect(mine.body.candidates[0].samples).toEqual({ answers: 6, ratings: 2, evaluations: 0 });
    const theirs = await api('GET', '/learning/recommendations?task=naming', undefined, member.token);
    expect(theirs.body).toMatchObject({ scope: 'user', recommended: 'simulator:json' });
    expect(theirs.body.candidates[0].samples).toEqual({ answers: 6, ratings: 4, evaluations: 0 });
    // a member who rated nothing gets every member's ratings (json: 4 of 6 ratings liked)
    const viewer = await addMember(s, owner, 'viewer');
    const all = await api('GET', '/learning/recommendations?task=naming', undefined, viewer.token);
    expect(all.body).toMatchObject({ scope: 'organization', recommended: 'simulator:json' });
    expect(all.body.candidates[0].samples).toEqual({ answers: 6, ratings: 6, evaluations: 0 });

    const listed = await api('GET', '/learning/patterns?type=ai_preference', undefined, member.token);
    const owners = new Set(listed.body.data.map((p: { userId: string | null }) => p.userId));
    expect(owners).toEqual(new Set([null, member.userId]));

    // at the database: a user's patterns are theirs alone (row-level security on app.user_id)
    const db = s.database.db;
    const rowsFor = (userId: string | null) =>
      db.withTenant({ organizationId: owner.organizationId, userId }, (tx) =>
        tx.select({ userId: learningPatterns.userId }).from(learningPatterns),
      );
    expect(new Set((await rowsFor(member.userId)).map((r) => r.userId))).toEqual(
      new Set([null, member.userId]),
    );
    expect(new Set((await rowsFor(owner.userId)).map((r) => r.userId))).toEqual(
      new Set([null, owner.userId]),
    );
    expect(new Set((await rowsFor(null)).map((r) => r.userId))).toEqual(new Set([null]));
    const forged = await db
      .withTenant({ organizationId: owner.organizationId, userId: member.userId }, (tx) =>
        tx.insert(learningPatterns).values({
          organizationId: owner.organizationId,
          userId: owner.userId,
          patternType: 'ai_preference',
          key: 'naming|forged',
        }),
      )
      .then(
        () => 'accepted',
        (e: { message: string; cause?: { message?: string } }) => `${e.cause?.message ?? ''} ${e.message}`,
      );
    expect(forged).toMatch(/row-level security policy/);
  });
});
