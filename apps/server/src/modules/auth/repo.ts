import type { Role } from '@aiops/contracts';
import {
  type Database,
  memberships,
  organizations,
  queryRows,
  type Tx,
  type UserTokenPurpose,
  users,
  userTokens,
} from '@aiops/db';
import { and, asc, eq, gt, isNull, sql } from 'drizzle-orm';
import { sha256 } from '../../services/tokens.ts';

export type UserRow = typeof users.$inferSelect;

/** The credential columns the application role cannot select (migration 0017). */
const SECRET_COLUMNS = ['passwordHash', 'mfaSecret', 'mfaRecoveryCodes'] as const;
type SecretColumn = (typeof SECRET_COLUMNS)[number];
/** A users row as a member of the same organization may read it: everything but credentials. */
export type PublicUserRow = Omit<UserRow, SecretColumn>;

/** The columns of `users` the application role may select (for `.select()` and `.returning()`). */
export const publicUserColumns = Object.fromEntries(
  Object.entries(users).filter(
    ([key, value]) =>
      key !== 'enableRLS' &&
      typeof value === 'object' &&
      !(SECRET_COLUMNS as readonly string[]).includes(key),
  ),
) as Omit<(typeof users)['_']['columns'], SecretColumn>;

/** A sign-in lookup: users are visible only to themselves and their organizations, so `system`. */
export async function findUserByEmail(db: Database, email: string): Promise<UserRow | undefined> {
  const [u] = await db.system((tx) => tx.select().from(users).where(eq(users.email, email)));
  return u;
}

/**
 * A user by id inside a tenant transaction. The credentials come with it only for the signed-in user
 * (`app.user_id`), through `aiops_own_credentials()`; for anyone else they are null.
 */
export async function findUserById(tx: Tx, id: string): Promise<UserRow | undefined> {
  const [u] = await tx.select(publicUserColumns).from(users).where(eq(users.id, id));
  if (!u) return undefined;
  const [own] = await queryRows<{
    password_hash: string | null;
    mfa_secret: string | null;
    mfa_recovery_codes: string[] | null;
  }>(
    tx,
    sql`SELECT password_hash, mfa_secret, mfa_recovery_codes FROM aiops_own_credentials()
        WHERE ${id}::uuid = nullif(current_setting('app.user_id', true), '')::uuid`,
  );
  return {
    ...u,
    passwordHash: own?.password_hash ?? null,
    mfaSecret: own?.mfa_secret ?? null,
    mfaRecoveryCodes: own?.mfa_recovery_codes ?? [],
  };
}

export interface MembershipSummary {
  organizationId: string;
  name: string;
  role: Role;
  joinedAt: Date;
}

/**
 * Every organization a user belongs to, oldest membership first. A sign-in lookup across tenants: `system`.
 */
export async function membershipsOfUser(db: Database, userId: string): Promise<MembershipSummary[]> {
  return db.system((tx) =>
    tx
      .select({
        organizationId: memberships.organizationId,
        name: organizations.name,
        role: memberships.role,
        joinedAt: memberships.joinedAt,
      })
      .from(memberships)
      .innerJoin(organizations, eq(organizations.id, memberships.organizationId))
      .where(and(eq(memberships.userId, userId), isNull(organizations.deletedAt)))
      .orderBy(asc(memberships.joinedAt), asc(memberships.organizationId)),
  );
}

export async function createUserToken(
  tx: Tx,
  userId: string,
  purpose: UserTokenPurpose,
  token: string,
  ttlSeconds: number,
): Promise<void> {
  await tx.insert(userTokens).values({
    userId,
    purpose,
    tokenHash: sha256(token),
    expiresAt: new Date(Date.now() + ttlSeconds * 1000),
  });
}

/** Marks a mailed token used, atomically: only an unused, unexpired token of that purpose works, once. */
export async function consumeUserToken(tx: Tx, purpose: UserTokenPurpose, token: string) {
  const [row] = await tx
    .update(userTokens)
    .set({ usedAt: sql`now()` })
    .where(
      and(
        eq(userTokens.tokenHash, sha256(token)),
        eq(userTokens.purpose, purpose),
        isNull(userTokens.usedAt),
        gt(userTokens.expiresAt, sql`now()`),
      ),
    )
    .returning({ userId: userTokens.userId });
  return row?.userId;
}

/** The organization a user's own account events are audited in: their oldest membership. */
export async function homeOrganizationOf(tx: Tx, userId: string): Promise<string | undefined> {
  const [m] = await tx
    .select({ organizationId: memberships.organizationId })
    .from(memberships)
    .where(eq(memberships.userId, userId))
    .orderBy(asc(memberships.joinedAt))
    .limit(1);
  return m?.organizationId;
}
