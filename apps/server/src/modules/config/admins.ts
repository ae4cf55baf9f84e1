import { AppError } from '@aiops/core';
import { type Database, platformAdmins, platformAuditLogs, users } from '@aiops/db';
import { and, eq, inArray } from 'drizzle-orm';
import type { FastifyRequest } from 'fastify';
import { userOf } from '../../http/auth.ts';

/**
 * Whether a user is a platform admin (operator of the installation, not of one organization): granted with
 * `aiops admin grant`, or a verified email listed in AIOPS_PLATFORM_ADMINS.
 */
export async function isPlatformAdmin(
  db: Database,
  userId: string,
  emails: readonly string[] = [],
): Promise<boolean> {
  return db.system(async (tx) => {
    const granted = await tx
      .select({ id: platformAdmins.userId })
      .from(platformAdmins)
      .where(eq(platformAdmins.userId, userId));
    if (granted.length > 0) return true;
    if (emails.length === 0) return false;
    const listed = await tx
      .select({ id: users.id })
      .from(users)
      .where(and(eq(users.id, userId), eq(users.emailVerified, true), inArray(users.email, [...emails])));
    return listed.length > 0;
  });
}

/** For `/admin/*` routes: the caller must be a signed-in person who is a platform admin (403 otherwise). */
export async function requirePlatformAdmin(request: FastifyRequest): Promise<{ userId: string }> {
  const auth = userOf(request);
  if (
    !(await isPlatformAdmin(
      request.server.db,
      auth.userId,
      request.server.jobDeps.settings.platformAdminEmails,
    ))
  ) {
    throw new AppError(
      403,
      'platform_admin_required',
      'This is for platform admins (operators of this installation), not organization owners: an operator grants it with `aiops admin grant <email>`',
    );
  }
  return { userId: auth.userId };
}

/** `aiops admin grant|revoke <email>`: returns whether anything changed; unknown emails are a 404. */
export async function setPlatformAdmin(db: Database, email: string, admin: boolean): Promise<boolean> {
  return db.system(async (tx) => {
    const [user] = await tx
      .select({ id: users.id })
      .from(users)
      .where(eq(users.email, email.trim().toLowerCase()));
    if (!user) {
      throw new AppError(404, 'user_not_found', `No user has the email ${email}: they must sign up first`);
    }
    const changed = admin
      ? await tx.insert(platformAdmins).values({ userId: user.id }).onConflictDoNothing().returning()
      : await tx.delete(platformAdmins).where(eq(platformAdmins.userId, user.id)).returning();
    if (changed.length > 0) {
      await tx.insert(platformAuditLogs).values({
        userId: null,
        action: admin ? 'platform_admin.grant' : 'platform_admin.revoke',
        key: `user:${user.id}`,
        after: { email: email.trim().toLowerCase(), admin },
        requestId: 'cli',
      });
    }
    return changed.length > 0;
  });
}

/** The platform admins' emails (`aiops admin list`). */
export async function listPlatformAdmins(db: Database): Promise<{ email: string; grantedAt: Date }[]> {
  return db.system((tx) =>
    tx
      .select({ email: users.email, grantedAt: platformAdmins.grantedAt })
      .from(platformAdmins)
      .innerJoin(users, eq(users.id, platformAdmins.userId))
      .orderBy(users.email),
  );
}
