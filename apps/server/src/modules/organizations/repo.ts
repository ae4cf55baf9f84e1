import { apiKeys, invitations, memberships, organizations, sessions, type Tx, users } from '@aiops/db';
import { and, asc, desc, eq, isNull, sql } from 'drizzle-orm';
import { after, cursorTime, page } from '../../http/pagination.ts';

export type OrganizationRow = typeof organizations.$inferSelect;
export type InvitationRow = typeof invitations.$inferSelect;

export async function getOrganization(tx: Tx, id: string): Promise<OrganizationRow | undefined> {
  const [row] = await tx.select().from(organizations).where(eq(organizations.id, id));
  return row;
}

export async function updateOrganization(
  tx: Tx,
  id: string,
  values: Partial<typeof organizations.$inferInsert>,
) {
  const [row] = await tx
    .update(organizations)
    .set({ ...values, updatedAt: new Date() })
    .where(eq(organizations.id, id))
    .returning();
  return row!;
}

const memberColumns = {
  userId: memberships.userId,
  email: users.email,
  name: users.fullName,
  role: memberships.role,
  permissions: memberships.permissions,
  joinedAt: memberships.joinedAt,
};
export type MemberRow = {
  userId: string;
  email: string;
  name: string | null;
  role: (typeof memberships.$inferSelect)['role'];
  permissions: string[];
  joinedAt: Date;
};

export function listMembers(tx: Tx): Promise<MemberRow[]> {
  return tx
    .select(memberColumns)
    .from(memberships)
    .innerJoin(users, eq(users.id, memberships.userId))
    .orderBy(asc(memberships.joinedAt), asc(memberships.userId));
}

export async function findMember(tx: Tx, userId: string): Promise<MemberRow | undefined> {
  const [row] = await tx
    .select(memberColumns)
    .from(memberships)
    .innerJoin(users, eq(users.id, memberships.userId))
    .where(eq(memberships.userId, userId))
    .for('update', { of: memberships });
  return row;
}

export async function countOwners(tx: Tx): Promise<number> {
  const [row] = await tx
    .select({ n: sql<number>`count(*)::int` })
    .from(memberships)
    .where(eq(memberships.role, 'owner'));
  return row?.n ?? 0;
}

export async function updateMember(
  tx: Tx,
  userId: string,
  values: { role?: MemberRow['role']; permissions?: string[] },
) {
  await tx
    .update(memberships)
    .set({ ...values, updatedAt: new Date() })
    .where(eq(memberships.userId, userId));
}

/** Removes a member and ends what they hold in this organization: sessions and the API keys they made. */
export async function deleteMember(tx: Tx, userId: string) {
  await tx.delete(memberships).where(eq(memberships.userId, userId));
  await tx
    .update(sessions)
    .set({ revokedAt: new Date(), revokedReason: 'membership_removed' })
    .where(and(eq(sessions.userId, userId), isNull(sessions.revokedAt)));
  await tx
    .update(apiKeys)
    .set({ revokedAt: new Date() })
    .where(and(eq(apiKeys.userId, userId), isNull(apiKeys.revokedAt)));
}

export async function insertMember(tx: Tx, values: typeof memberships.$inferInsert) {
  await tx.insert(memberships).values(values);
}

export async function insertInvitation(
  tx: Tx,
  values: typeof invitations.$inferInsert,
): Promise<InvitationRow> {
  const [row] = await tx.insert(invitations).values(values).returning();
  return row!;
}

export async function findInvitation(tx: Tx, id: string): Promise<InvitationRow | undefined> {
  const [row] = await tx.select().from(invitations).where(eq(invitations.id, id));
  return row;
}

export async function listInvitations(tx: Tx, limit: number, cursor: string | undefined) {
  const rows = await tx
    .select({ row: invitations, id: invitations.id, cursorT: cursorTime(invitations.createdAt) })
    .from(invitations)
    .where(after(invitations.createdAt, invitations.id, cursor))
    .orderBy(desc(invitations.createdAt), desc(invitations.id))
    .limit(limit + 1);
  return page(rows, limit);
}

export async function revokeInvitation(tx: Tx, id: string): Promise<InvitationRow | undefined> {
  const [row] = await tx
    .update(invitations)
    .set({ revokedAt: new Date() })
    .where(and(eq(invitations.id, id), isNull(invitations.revokedAt), isNull(invitations.acceptedAt)))
    .returning();
  return row;
}

/** An invitation by its token's hash, in any organization: the invitee has no tenant yet (`system`). */
export async function findInvitationByHash(tx: Tx, tokenHash: string) {
  const [row] = await tx
    .select({ invitation: invitations, organizationName: organizations.name })
    .from(invitations)
    .innerJoin(organizations, eq(organizations.id, invitations.organizationId))
    .where(eq(invitations.tokenHash, tokenHash));
  return row;
}

/** Marks an invitation accepted, once: a second acceptance finds nothing to update. */
export async function markInvitationAccepted(tx: Tx, id: string, userId: string): Promise<boolean> {
  const rows = await tx
    .update(invitations)
    .set({ acceptedAt: new Date(), acceptedBy: userId })
    .where(and(eq(invitations.id, id), isNull(invitations.acceptedAt), isNull(invitations.revokedAt)))
    .returning({ id: invitations.id });
  return rows.length === 1;
}
