import { PLANS } from '@aiops/core';
import { testBackend } from '@aiops/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  call,
  type SignedUp,
  setPlan,
  signUp,
  startTestServer,
  type TestServer,
} from '../../test-support.ts';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(() => s?.close());

let n = 0;
const email = () => `seat-${process.pid}-${Date.now().toString(36)}-${++n}@example.test`;
const invite = (o: SignedUp, to = email()) =>
  call(s, 'POST', '/api/v1/invitations', { token: o.token, body: { email: to, role: 'member' } });
const tokenOf = (to: string) =>
  /invitations\/(inv_[\w-]+)\/accept/.exec(
    s.logs.findLast((l) => l.includes(to) && l.includes('inv_'))!,
  )![1]!;
const seats = async (o: SignedUp) => (await call(s, 'GET', '/api/v1/members/seats', { token: o.token })).body;

describe(`seats per plan on ${testBackend()}`, () => {
  it("counts members and pending invitations against the plan's seats and refuses the next one with 402", async () => {
    const o = await signUp(s);
    const limit = PLANS.starter.seats!;
    expect(await seats(o)).toEqual({
      tier: 'starter',
      planName: 'Starter',
      limit,
      members: 1,
      pendingInvitations: 0,
      used: 1,
    });
    const sent: string[] = [];
    for (let i = 1; i < limit; i++) {
      const r = await invite(o);
      expect(r.status, JSON.stringify(r.body)).toBe(201);
      sent.push(r.body.id);
    }
    const refused = await invite(o);
    expect(refused.status).toBe(402);
    expect(refused.body.error.code).toBe('seat_limit_reached');
    expect(refused.body.error.message).toBe(
      `The Starter plan includes ${limit} seats and all are taken (1 members, ${limit - 1} pending invitations): upgrade the plan, or remove a member or revoke an invitation first`,
    );
    expect(refused.body.error.details).toEqual({
      plan: 'starter',
      limit,
      members: 1,
      pendingInvitations: limit - 1,
    });
    // a revoked invitation frees its seat
    expect((await call(s, 'DELETE', `/api/v1/invitations/${sent[0]}`, { token: o.token })).status).toBe(200);
    expect((await invite(o)).status).toBe(201);
    expect((await invite(o)).status).toBe(402);
    // a bigger plan has more seats
    await setPlan(s, o, 'professional');
    expect(await seats(o)).toMatchObject({
      tier: 'professional',
      limit: PLANS.professional.seats,
      used: limit,
    });
    expect((await invite(o)).status).toBe(201);
  });

  it('parallel invitations for the last seat: exactly one passes', async () => {
    const o = await signUp(s);
    const limit = PLANS.starter.seats!;
    for (let i = 2; i < limit; i++) expect((await invite(o)).status).toBe(201);
    expect((await seats(o)).used).toBe(limit - 1);
    const results = await Promise.all(Array.from({ length: 6 }, () => invite(o)));
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([201, 402, 402, 402, 402, 402]);
    expect(await seats(o)).toMatchObject({ members: 1, pendingInvitations: limit - 1, used: limit });
  });

  it('an invitation accepted after a downgrade to fewer seats is refused with 402', async () => {
    const o = await signUp(s);
    await setPlan(s, o, 'professional');
    const limit = PLANS.starter.seats!;
    const emails = Array.from({ length: limit }, () => email());
    for (const e of emails) expect((await invite(o, e)).status).toBe(201);
    await setPlan(s, o, 'starter');
    for (const e of emails.slice(0, limit - 1)) {
      const r = await call(s, 'POST', `/api/v1/invitations/${tokenOf(e)}/accept`, {
        body: { name: 'New member', password: 'Seat-Passw0rd-123!' },
      });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
    }
    const last = await call(s, 'POST', `/api/v1/invitations/${tokenOf(emails.at(-1)!)}/accept`, {
      body: { name: 'New member', password: 'Seat-Passw0rd-123!' },
    });
    expect(last.status).toBe(402);
    expect(last.body.error.code).toBe('seat_limit_reached');
    expect(last.body.error.message).toContain(`The Starter plan includes ${limit} seats`);
    // nothing half-written: the invitation is still pending, no account or membership was made
    expect(await seats(o)).toMatchObject({ members: limit, pendingInvitations: 1 });
    const members = await call(s, 'GET', '/api/v1/members', { token: o.token });
    expect(members.body.data.map((m: { email: string }) => m.email)).not.toContain(emails.at(-1));
  });
});
