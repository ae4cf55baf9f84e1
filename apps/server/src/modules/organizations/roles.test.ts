import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ApiResult,
  addMember,
  call,
  type SignedUp,
  setPlan,
  signUp,
  startTestServer,
  type TestServer,
} from '../../test-support.ts';

let s: TestServer;
let owner: SignedUp;
const as: Record<string, SignedUp> = {};

beforeAll(async () => {
  s = await startTestServer();
  owner = await signUp(s);
  as.owner = owner;
  // three members besides the owner and the role matrix's invitations: more than the starter plan's seats
  await setPlan(s, owner, 'business');
  as.admin = await addMember(s, owner, 'admin');
  as.member = await addMember(s, owner, 'member');
  as.viewer = await addMember(s, owner, 'viewer');
});
afterAll(async () => {
  // Every successful change in this file wrote its audit row (the server warns when one does not).
  expect(s.logs.filter((l) => l.includes('wrote no audit row'))).toEqual([]);
  await s?.close();
});

type Role = 'owner' | 'admin' | 'member' | 'viewer';
interface Action {
  name: string;
  allowed: Role[];
  run: (token: string) => Promise<ApiResult<{ error: { code: string; message: string } }>>;
}

const ACTIONS: Action[] = [
  {
    name: 'read the organization',
    allowed: ['owner', 'admin', 'member', 'viewer'],
    run: (t) => call(s, 'GET', '/api/v1/organization', { token: t }),
  },
  {
    name: 'rename the organization',
    allowed: ['owner', 'admin'],
    run: (t) => call(s, 'PATCH', '/api/v1/organization', { token: t, body: { name: 'Renamed' } }),
  },
  {
    name: 'change the tier (billing)',
    allowed: ['owner'],
    run: (t) =>
      call(s, 'PATCH', '/api/v1/organization', { token: t, body: { subscriptionTier: 'professional' } }),
  },
  {
    name: 'list members',
    allowed: ['owner', 'admin', 'member', 'viewer'],
    run: (t) => call(s, 'GET', '/api/v1/members', { token: t }),
  },
  {
    name: 'invite a member',
    allowed: ['owner', 'admin'],
    run: (t) =>
      call(s, 'POST', '/api/v1/invitations', { token: t, body: { email: `x${Math.random()}@example.test` } }),
  },
  {
    name: 'list invitations',
    allowed: ['owner', 'admin', 'member', 'viewer'],
    run: (t) => call(s, 'GET', '/api/v1/invitations', { token: t }),
  },
  {
    name: "change a member's grants",
    allowed: ['owner', 'admin'],
    run: (t) =>
      call(s, 'PATCH', `/api/v1/members/${as.viewer!.userId}`, { token: t, body: { permissions: [] } }),
  },
  {
    name: 'list API keys',
    allowed: ['owner', 'admin', 'member'],
    run: (t) => call(s, 'GET', '/api/v1/api-keys', { token: t }),
  },
  {
    name: 'create an API key',
    allowed: ['owner', 'admin', 'member'],
    run: (t) =>
      call(s, 'POST', '/api/v1/api-keys', { token: t, body: { name: 'k', scopes: ['organization:read'] } }),
  },
  {
    name: 'read the audit log',
    allowed: ['owner', 'admin'],
    run: (t) => call(s, 'GET', '/api/v1/audit-logs', { token: t }),
  },
];

describe('each role against each kind of action', () => {
  for (const action of ACTIONS) {
    for (const role of ['owner', 'admin', 'member', 'viewer'] as Role[]) {
      const allowed = action.allowed.includes(role);
      it(`${role} ${allowed ? 'may' : 'may not'} ${action.name}`, async () => {
        const r = await action.run(as[role]!.token);
        if (allowed) {
          expect(r.status, JSON.stringify(r.body)).toBeLessThan(300);
        } else {
          expect(r.status).toBe(403);
          expect(r.body.error.code).toBe('forbidden');
          expect(r.body.error.message).toMatch(/permission "[a-z_]+:[a-z]+"/);
        }
      });
    }
  }
});

describe('owners and grants', () => {
  it('the last owner can neither leave nor be demoted; with a second owner both work', async () => {
    const o = await signUp(s);
    const leave = await call(s, 'DELETE', `/api/v1/members/${o.userId}`, { token: o.token });
    expect(leave.status).toBe(409);
    expect(leave.body.error.code).toBe('last_owner');
    const demote = await call(s, 'PATCH', `/api/v1/members/${o.userId}`, {
      token: o.token,
      body: { role: 'admin' },
    });
    expect(demote.status).toBe(409);
    const second = await addMember(s, o, 'admin');
    const promote = await call(s, 'PATCH', `/api/v1/members/${second.userId}`, {
      token: o.token,
      body: { role: 'owner' },
    });
    expect(promote.status).toBe(200);
    expect((await call(s, 'DELETE', `/api/v1/members/${o.userId}`, { token: o.token })).status).toBe(204);
    expect((await call(s, 'GET', '/api/v1/me', { token: o.token })).status).toBe(401);
  });

  it('an admin cannot make an owner, change an owner, or grant what they lack', async () => {
    const o = await signUp(s);
    const admin = await addMember(s, o, 'admin');
    const viewer = await addMember(s, o, 'viewer');
    expect(
      (
        await call(s, 'PATCH', `/api/v1/members/${viewer.userId}`, {
          token: admin.token,
          body: { role: 'owner' },
        })
      ).status,
    ).toBe(403);
    expect(
      (
        await call(s, 'PATCH', `/api/v1/members/${o.userId}`, {
          token: admin.token,
          body: { role: 'viewer' },
        })
      ).status,
    ).toBe(403);
    expect((await call(s, 'DELETE', `/api/v1/members/${o.userId}`, { token: admin.token })).status).toBe(403);
    const billing = await call(s, 'PATCH', `/api/v1/members/${viewer.userId}`, {
      token: admin.token,
      body: { permissions: ['billing:manage'] },
    });
    expect(billing.status).toBe(403);
    expect(
      (
        await call(s, 'POST', '/api/v1/invitations', {
          token: admin.token,
          body: { email: 'own@example.test', role: 'owner' },
        })
      ).status,
    ).toBe(403);
  });

  it('an extra grant takes effect at once, for the member’s existing token', async () => {
    const o = await signUp(s);
    const viewer = await addMember(s, o, 'viewer');
    expect((await call(s, 'GET', '/api/v1/audit-logs', { token: viewer.token })).status).toBe(403);
    const grant = await call(s, 'PATCH', `/api/v1/members/${viewer.userId}`, {
      token: o.token,
      body: { permissions: ['audit:read'] },
    });
    expect(grant.status).toBe(200);
    expect(grant.body.permissions).toEqual(['audit:read']);
    expect((await call(s, 'GET', '/api/v1/audit-logs', { token: viewer.token })).status).toBe(200);
    const demote = await call(s, 'PATCH', `/api/v1/members/${viewer.userId}`, {
      token: o.token,
      body: { permissions: [] },
    });
    expect(demote.status).toBe(200);
    expect((await call(s, 'GET', '/api/v1/audit-logs', { token: viewer.token })).status).toBe(403);
  });

  it('removing a member revokes their sessions and their API keys in that organization', async () => {
    const o = await signUp(s);
    const m = await addMember(s, o, 'member');
    const key = await call(s, 'POST', '/api/v1/api-keys', {
      token: m.token,
      body: { name: 'k', scopes: ['organization:read'] },
    });
    expect((await call(s, 'GET', '/api/v1/organization', { token: key.body.key })).status).toBe(200);
    expect((await call(s, 'DELETE', `/api/v1/members/${m.userId}`, { token: o.token })).status).toBe(204);
    expect((await call(s, 'GET', '/api/v1/organization', { token: m.token })).status).toBe(401);
    expect((await call(s, 'GET', '/api/v1/organization', { token: key.body.key })).status).toBe(401);
  });
});

describe('suspended organization', () => {
  it('can read but not change or run anything; an owner can reactivate it', async () => {
    const o = await signUp(s);
    const m = await addMember(s, o, 'member');
    expect(
      (await call(s, 'PATCH', '/api/v1/organization', { token: o.token, body: { status: 'suspended' } }))
        .status,
    ).toBe(200);
    expect((await call(s, 'GET', '/api/v1/organization', { token: m.token })).body.status).toBe('suspended');
    expect((await call(s, 'GET', '/api/v1/members', { token: m.token })).status).toBe(200);
    const create = await call(s, 'POST', '/api/v1/api-keys', {
      token: m.token,
      body: { name: 'k', scopes: ['organization:read'] },
    });
    expect(create.status).toBe(403);
    expect(create.body.error.code).toBe('organization_suspended');
    const rename = await call(s, 'PATCH', '/api/v1/organization', { token: o.token, body: { name: 'x' } });
    expect(rename.body.error.code).toBe('organization_suspended');
    const back = await call(s, 'PATCH', '/api/v1/organization', {
      token: o.token,
      body: { status: 'active' },
    });
    expect(back.status).toBe(200);
    expect(
      (
        await call(s, 'POST', '/api/v1/api-keys', {
          token: m.token,
          body: { name: 'k', scopes: ['organization:read'] },
        })
      ).status,
    ).toBe(201);
  });
});

describe('invitations', () => {
  it('are single use, expire, can be revoked, and need a matching signed-in user when the account exists', async () => {
    const o = await signUp(s);
    const existing = await signUp(s);
    const inv = await call(s, 'POST', '/api/v1/invitations', {
      token: o.token,
      body: { email: existing.email, role: 'member' },
    });
    const token = /invitations\/(inv_[\w-]+)\/accept/.exec(
      s.logs.findLast((l) => l.includes(existing.email) && l.includes('inv_'))!,
    )![1]!;
    const anon = await call(s, 'POST', `/api/v1/invitations/${token}/accept`, {
      body: { name: 'x', password: 'Some-Passw0rd-x' },
    });
    expect(anon.status).toBe(401);
    expect(anon.body.error.code).toBe('sign_in_required');
    const stranger = await signUp(s);
    expect(
      (await call(s, 'POST', `/api/v1/invitations/${token}/accept`, { token: stranger.token })).status,
    ).toBe(403);
    expect(
      (await call(s, 'POST', `/api/v1/invitations/${token}/accept`, { token: existing.token })).status,
    ).toBe(200);
    expect(
      (await call(s, 'POST', `/api/v1/invitations/${token}/accept`, { token: existing.token })).status,
    ).toBe(400);
    const list = await call(s, 'GET', '/api/v1/invitations', { token: o.token });
    expect(list.body.data.find((i: { id: string }) => i.id === inv.body.id).acceptedAt).not.toBeNull();

    const second = await call(s, 'POST', '/api/v1/invitations', {
      token: o.token,
      body: { email: 'later@example.test' },
    });
    expect(
      (await call(s, 'DELETE', `/api/v1/invitations/${second.body.id}`, { token: o.token })).status,
    ).toBe(200);
    const t2 = /invitations\/(inv_[\w-]+)\/accept/.exec(
      s.logs.findLast((l) => l.includes('later@example.test') && l.includes('inv_'))!,
    )![1]!;
    expect(
      (
        await call(s, 'POST', `/api/v1/invitations/${t2}/accept`, {
          body: { name: 'L', password: 'Later-Passw0rd-1' },
        })
      ).status,
    ).toBe(400);
    const dup = await call(s, 'POST', '/api/v1/invitations', {
      token: o.token,
      body: { email: existing.email },
    });
    expect(dup.status).toBe(409);
  });
});
