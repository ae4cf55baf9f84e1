import { conversationMessages, conversations } from '@aiops/db';
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

/** Seed 001: a conversation belongs to a user. Private by default; `organization` shares it. */
let s: TestServer;
let owner: SignedUp;
let member: SignedUp;
beforeAll(async () => {
  s = await startTestServer();
  owner = await signUp(s);
  member = await addMember(s, owner, 'member');
});
afterAll(() => s?.close());

const api = (token: string, method: string, path: string, body?: unknown) =>
  call(s, method, `/api/v1${path}`, { token, ...(body === undefined ? {} : { body }) });
const participants = [{ model: 'simulator:echo' }];
/** The database's refusal of a write (the driver's error wraps PostgreSQL's), or 'accepted'. */
const refusal = async (write: Promise<unknown>) => {
  try {
    await write;
    return 'accepted';
  } catch (e) {
    const err = e as { message: string; cause?: { message?: string } };
    return `${err.cause?.message ?? ''} ${err.message}`;
  }
};

describe(`conversation visibility on ${testBackend()}`, () => {
  let privateId: string;
  let sharedId: string;

  it('a member sees their own and the shared conversations, never another member’s private one', async () => {
    const mine = await api(owner.token, 'POST', '/conversations', { title: 'mine', participants });
    expect(mine.status, JSON.stringify(mine.body)).toBe(201);
    expect(mine.body).toMatchObject({ visibility: 'private', userId: owner.userId });
    privateId = mine.body.id;
    expect(
      (await api(owner.token, 'POST', `/conversations/${privateId}/messages`, { content: 'hi' })).status,
    ).toBe(200);
    const shared = await api(owner.token, 'POST', '/conversations', {
      title: 'team',
      participants,
      visibility: 'organization',
    });
    expect(shared.body.visibility).toBe('organization');
    sharedId = shared.body.id;
    const theirs = await api(member.token, 'POST', '/conversations', { title: 'theirs', participants });

    const listed = await api(member.token, 'GET', '/conversations');
    expect(listed.body.data.map((c: { id: string }) => c.id).sort()).toEqual(
      [sharedId, theirs.body.id].sort(),
    );
    expect((await api(member.token, 'GET', `/conversations/${privateId}`)).status).toBe(404);
    expect((await api(member.token, 'GET', `/conversations/${privateId}/messages`)).status).toBe(404);
    expect(
      (await api(member.token, 'POST', `/conversations/${privateId}/messages`, { content: 'peek' })).status,
    ).toBe(404);
    expect((await api(member.token, 'GET', `/conversations/${sharedId}`)).status).toBe(200);
    const ownerList = await api(owner.token, 'GET', '/conversations');
    expect(ownerList.body.data.map((c: { id: string }) => c.id)).not.toContain(theirs.body.id);
  });

  it('only the author changes the visibility', async () => {
    const denied = await api(member.token, 'PATCH', `/conversations/${sharedId}`, { visibility: 'private' });
    expect(denied.status).toBe(403);
    expect(denied.body.error.message).toBe('Only the author of a conversation can change its visibility');
    const shared = await api(owner.token, 'PATCH', `/conversations/${privateId}`, {
      visibility: 'organization',
    });
    expect(shared.status).toBe(200);
    expect(shared.body.visibility).toBe('organization');
    expect((await api(member.token, 'GET', `/conversations/${privateId}/messages`)).body.data).toHaveLength(
      2,
    );
    const back = await api(owner.token, 'PATCH', `/conversations/${privateId}`, { visibility: 'private' });
    expect(back.body.visibility).toBe('private');
    expect((await api(member.token, 'GET', `/conversations/${privateId}`)).status).toBe(404);
    expect(
      (await api(owner.token, 'POST', '/conversations', { participants, visibility: 'secret' })).status,
    ).toBe(400);
  });

  it('at the database: row-level security hides another user’s private conversation and its messages', async () => {
    const db = s.database.db;
    const as = (userId: string | null) => ({ organizationId: owner.organizationId, userId });
    const seen = await db.withTenant(as(member.userId), async (tx) => ({
      convs: (await tx.select({ id: conversations.id }).from(conversations)).map((r) => r.id),
      messages: await tx
        .select({ id: conversationMessages.id })
        .from(conversationMessages)
        .where(eq(conversationMessages.conversationId, privateId)),
    }));
    expect(seen.convs).toContain(sharedId);
    expect(seen.convs).not.toContain(privateId);
    expect(seen.messages).toEqual([]);
    const ownerSees = await db.withTenant(as(owner.userId), (tx) =>
      tx
        .select({ id: conversationMessages.id })
        .from(conversationMessages)
        .where(eq(conversationMessages.conversationId, privateId)),
    );
    expect(ownerSees).toHaveLength(2);
    // without a user (API keys, workers) only the organization's conversations
    const keySees = await db.withTenant(as(null), (tx) =>
      tx.select({ id: conversations.id }).from(conversations),
    );
    expect(keySees.map((r) => r.id)).toEqual([sharedId]);
    // writing into it, or making a private conversation for someone else, is refused by the policies
    expect(
      await refusal(
        db.withTenant(as(member.userId), (tx) =>
          tx.insert(conversationMessages).values({
            organizationId: owner.organizationId,
            conversationId: privateId,
            senderType: 'user',
            content: 'injected',
          }),
        ),
      ),
    ).toMatch(/row-level security policy/);
    expect(
      await refusal(
        db.withTenant(as(member.userId), (tx) =>
          tx.insert(conversations).values({
            organizationId: owner.organizationId,
            userId: owner.userId,
            participants: [],
            visibility: 'private',
          }),
        ),
      ),
    ).toMatch(/row-level security policy/);
    const updated = await db.withTenant(as(member.userId), (tx) =>
      tx.update(conversations).set({ title: 'taken' }).where(eq(conversations.id, privateId)).returning(),
    );
    expect(updated).toEqual([]);
  });
});
