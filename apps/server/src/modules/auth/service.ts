import { randomBytes, randomUUID } from 'node:crypto';
import { AppError, badRequest, forbidden, notFound } from '@aiops/core';
import { memberships, organizations, type Tx, users } from '@aiops/db';
import { and, eq } from 'drizzle-orm';
import type { FastifyRequest } from 'fastify';
import { userOf } from '../../http/auth.ts';
import { type AuditEntry, audit, tenant } from '../../http/tenant.ts';
import type { ModuleDeps } from '../../module.ts';
import { isUniqueViolation, toOrganizationDto, toUserDto } from '../../services/dto.ts';
import { assertStrongPassword, hashPassword, verifyPassword } from '../../services/passwords.ts';
import { issueSession, revokeSession, revokeUserSessionsIn } from '../../services/sessions.ts';
import { randomToken } from '../../services/tokens.ts';
import { checkSecondFactor, claimTotpStep } from './mfa-service.ts';
import {
  consumeUserToken,
  createUserToken,
  findUserByEmail,
  findUserById,
  homeOrganizationOf,
  membershipsOfUser,
  publicUserColumns,
} from './repo.ts';

const invalidCredentials = () =>
  new AppError(
    401,
    'invalid_credentials',
    'The email or password is wrong: check them, or reset the password',
  );
const invalidLink = () =>
  new AppError(400, 'invalid_token', 'The link is invalid, expired or already used: request a new one');

export function slugify(name: string): string {
  const base = name
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 80);
  return `${base || 'org'}-${randomBytes(3).toString('hex')}`;
}

/** Sign-up: a user, their organization and the owner membership, in one transaction; then a verification mail. */
export async function signup(
  deps: ModuleDeps,
  request: FastifyRequest,
  body: { email: string; password: string; name: string; organizationName: string },
) {
  assertStrongPassword(body.password, body.email, 'body.password');
  const passwordHash = await hashPassword(body.password);
  const organizationId = randomUUID();
  const userId = randomUUID();
  const verifyToken = randomToken('evt');
  try {
    const result = await deps.db.withTenant({ organizationId, userId }, async (tx) => {
      const [user] = await tx
        .insert(users)
        .values({
          id: userId,
          email: body.email,
          passwordHash,
          fullName: body.name,
          passwordChangedAt: new Date(),
        })
        .returning(publicUserColumns);
      const [org] = await tx
        .insert(organizations)
        .values({ id: organizationId, name: body.organizationName, slug: slugify(body.organizationName) })
        .returning();
      await tx.insert(memberships).values({ organizationId, userId: user!.id, role: 'owner' });
      await createUserToken(
        tx,
        user!.id,
        'email_verification',
        verifyToken,
        deps.settings.emailTokenTtlSeconds,
      );
      const session = await issueSession(tx, deps, request, {
        organizationId,
        userId: user!.id,
        mfaVerified: false,
      });
      await audit(tx, request, {
        actor: { organizationId, userId: user!.id },
        entityType: 'user',
        entityId: user!.id,
        action: 'signed_up',
        after: {
          email: user!.email,
          fullName: user!.fullName,
          organizationId,
          organizationName: org!.name,
          role: 'owner',
        },
      });
      return { user: user!, org: org!, session };
    });
    await sendVerificationMail(deps, result.user.email, verifyToken);
    return result;
  } catch (e) {
    if (isUniqueViolation(e)) {
      throw new AppError(
        409,
        'email_taken',
        'An account with this email already exists: sign in or reset the password',
        {
          details: { field: 'body.email' },
        },
      );
    }
    throw e;
  }
}

async function sendVerificationMail(deps: ModuleDeps, email: string, token: string) {
  await deps.mailer.send({
    to: email,
    subject: 'Confirm your email address',
    text: `Confirm your email address for AI Ops Studio:\n\n${deps.settings.publicUrl}/verify-email?token=${token}\n\nor POST /api/v1/auth/verify-email with {"token": "${token}"}.\nThe link expires in ${Math.round(deps.settings.emailTokenTtlSeconds / 3600)} hours.`,
  });
}

/** Sign-in with email and password (and a second factor when MFA is on). Failures are counted and slowed. */
export async function login(
  deps: ModuleDeps,
  request: FastifyRequest,
  body: { email: string; password: string; totp?: string; recoveryCode?: string; organizationId?: string },
) {
  // Counted before argon2 and before the second factor: parallel guesses cannot outrun the limit.
  const attempt = await deps.rateLimits.reserveLogin(body.email, request.ip);
  const user = await findUserByEmail(deps.db, body.email);
  const ok = await verifyPassword(user?.passwordHash, body.password);
  if (!user || !ok || !user.isActive || user.deletedAt) throw invalidCredentials();
  let remainingRecoveryCodes: string[] | undefined;
  if (user.mfaEnabled) {
    if (!body.totp && !body.recoveryCode) {
      // The right password, the code still to come: not a failed guess.
      await attempt.release();
      throw new AppError(
        401,
        'mfa_required',
        'This account uses two-factor authentication: send "totp" (the 6-digit code of your app) or a "recoveryCode"',
      );
    }
    const check = checkSecondFactor(deps.secrets, user, body);
    const step = check.step;
    if (
      !check.ok ||
      (step !== undefined && !(await deps.db.system((tx) => claimTotpStep(tx, user.id, step))))
    ) {
      throw new AppError(
        401,
        'invalid_mfa_code',
        'The authentication code is wrong or expired: use the current code',
      );
    }
    remainingRecoveryCodes = check.remainingRecoveryCodes;
  }
  await attempt.succeeded();
  return startSession(deps, request, user.id, body.organizationId, {
    method: 'password',
    mfaVerified: user.mfaEnabled,
    remainingRecoveryCodes,
  });
}

/** Issues a session in one of the user's organizations (the requested one, else the oldest membership). */
export async function startSession(
  deps: ModuleDeps,
  request: FastifyRequest,
  userId: string,
  organizationId: string | undefined,
  how: { method: string; mfaVerified: boolean; remainingRecoveryCodes?: string[] | undefined },
) {
  const orgs = await membershipsOfUser(deps.db, userId);
  const target = organizationId ? orgs.find((o) => o.organizationId === organizationId) : orgs[0];
  if (!target) {
    if (organizationId) throw notFound('organization', organizationId);
    throw forbidden('Your account belongs to no organization: accept an invitation, or sign up again');
  }
  return deps.db.withTenant({ organizationId: target.organizationId, userId }, async (tx) => {
    const session = await issueSession(tx, deps, request, {
      organizationId: target.organizationId,
      userId,
      mfaVerified: how.mfaVerified,
    });
    const [user] = await tx
      .update(users)
      .set({
        lastLoginAt: new Date(),
        ...(how.remainingRecoveryCodes ? { mfaRecoveryCodes: how.remainingRecoveryCodes } : {}),
      })
      .where(eq(users.id, userId))
      .returning(publicUserColumns);
    const [org] = await tx.select().from(organizations).where(eq(organizations.id, target.organizationId));
    await audit(tx, request, {
      actor: { organizationId: target.organizationId, userId },
      entityType: 'session',
      entityId: session.sessionId,
      action: 'signed_in',
      metadata: { method: how.method, mfa: how.mfaVerified, recoveryCodeUsed: !!how.remainingRecoveryCodes },
    });
    return { session, user: user!, org: org! };
  });
}

/** Ends the caller's session: its access and refresh tokens stop working at once. */
export async function logout(request: FastifyRequest) {
  const auth = userOf(request);
  await tenant(request, async (tx) => {
    if (auth.sessionId) await revokeSession(tx, auth.sessionId, 'logout');
    await audit(tx, request, { entityType: 'session', entityId: auth.sessionId, action: 'signed_out' });
  });
}

/** A new session in another organization the user belongs to; other organizations' ids answer 404. */
export async function switchOrg(deps: ModuleDeps, request: FastifyRequest, organizationId: string) {
  const { userId } = userOf(request);
  return deps.db.withTenant({ organizationId, userId }, async (tx) => {
    const [m] = await tx
      .select({ id: memberships.id })
      .from(memberships)
      .where(and(eq(memberships.organizationId, organizationId), eq(memberships.userId, userId)));
    const [org] = await tx.select().from(organizations).where(eq(organizations.id, organizationId));
    if (!m || !org) throw notFound('organization', organizationId);
    const session = await issueSession(tx, deps, request, { organizationId, userId, mfaVerified: false });
    const user = (await findUserById(tx, userId))!;
    await audit(tx, request, {
      actor: { organizationId, userId },
      entityType: 'session',
      entityId: session.sessionId,
      action: 'switched_organization',
      metadata: { from: request.auth?.organizationId },
    });
    return { session, user, org };
  });
}

export async function me(deps: ModuleDeps, request: FastifyRequest) {
  const auth = request.auth!;
  const { org, user, key } = await tenant(request, async (tx) => {
    const [org] = await tx.select().from(organizations).where(eq(organizations.id, auth.organizationId));
    const user = auth.userId ? await findUserById(tx, auth.userId) : undefined;
    const key = auth.apiKeyId
      ? await tx.query.apiKeys.findFirst({ where: (k, { eq: e }) => e(k.id, auth.apiKeyId!) })
      : undefined;
    return { org: org!, user, key };
  });
  const orgs = auth.userId
    ? await membershipsOfUser(deps.db, auth.userId)
    : [{ organizationId: org.id, name: org.name, role: 'viewer' as const }];
  return {
    user: user ? toUserDto(user) : null,
    apiKey: key ? { id: key.id, name: key.name, prefix: key.keyPrefix } : null,
    organization: toOrganizationDto(org),
    role: auth.role,
    permissions: [...auth.permissions].sort(),
    organizations: auth.userId ? orgs.map((o) => ({ id: o.organizationId, name: o.name, role: o.role })) : [],
  };
}

/**
 * Changes the password: every session of the user, in every organization, is revoked; a new session in the
 * current organization is returned. Crosses tenants (revocation), so it is one `system` transaction.
 */
export async function changePassword(
  deps: ModuleDeps,
  request: FastifyRequest,
  body: { currentPassword: string; newPassword: string },
) {
  const auth = userOf(request);
  const user = await tenant(request, (tx) => findUserById(tx, auth.userId));
  if (!user) throw invalidCredentials();
  const attempt = await deps.rateLimits.reserveLogin(user.email, request.ip);
  if (!(await verifyPassword(user.passwordHash, body.currentPassword))) {
    throw new AppError(401, 'invalid_credentials', 'The current password is wrong');
  }
  await attempt.succeeded();
  assertStrongPassword(body.newPassword, user.email, 'body.newPassword');
  if (body.newPassword === body.currentPassword)
    throw badRequest('The new password must differ from the current one');
  const passwordHash = await hashPassword(body.newPassword);
  return deps.db.system(async (tx) => {
    await tx
      .update(users)
      .set({ passwordHash, passwordChangedAt: new Date(), updatedAt: new Date() })
      .where(eq(users.id, user.id));
    const revoked = await revokeUserSessionsIn(tx, user.id, 'password_changed');
    const session = await issueSession(tx, deps, request, {
      organizationId: auth.organizationId,
      userId: user.id,
      mfaVerified: user.mfaEnabled,
    });
    await audit(tx, request, {
      entityType: 'user',
      entityId: user.id,
      action: 'password_changed',
      metadata: { sessionsRevoked: revoked },
    });
    return session;
  });
}

export async function verifyEmail(deps: ModuleDeps, request: FastifyRequest, token: string) {
  await deps.db.system(async (tx) => {
    const userId = await consumeUserToken(tx, 'email_verification', token);
    if (!userId) throw invalidLink();
    await tx
      .update(users)
      .set({ emailVerified: true, emailVerifiedAt: new Date() })
      .where(eq(users.id, userId));
    await auditInHomeOrganization(tx, request, userId, {
      action: 'email_verified',
      after: { emailVerified: true },
    });
  });
}

export async function resendVerification(deps: ModuleDeps, request: FastifyRequest) {
  const { userId } = userOf(request);
  const user = await tenant(request, (tx) => findUserById(tx, userId));
  if (!user || user.emailVerified) return;
  const token = randomToken('evt');
  await tenant(request, (tx) =>
    createUserToken(tx, user.id, 'email_verification', token, deps.settings.emailTokenTtlSeconds),
  );
  await sendVerificationMail(deps, user.email, token);
}

/** Mails a reset link if the account exists; answers the same either way (no account discovery). */
export async function requestPasswordReset(deps: ModuleDeps, email: string) {
  const user = await findUserByEmail(deps.db, email);
  if (!user?.isActive || user.deletedAt) return;
  const token = randomToken('prt');
  // No caller yet (the reset is asked for by address): a `system` write.
  await deps.db.system((tx) =>
    createUserToken(tx, user.id, 'password_reset', token, Math.min(deps.settings.emailTokenTtlSeconds, 3600)),
  );
  await deps.mailer.send({
    to: user.email,
    subject: 'Reset your password',
    text: `Someone asked to reset the password of your AI Ops Studio account. If it was you:\n\n${deps.settings.publicUrl}/reset-password?token=${token}\n\nor POST /api/v1/auth/password-reset/confirm with {"token": "${token}", "password": "…"}.\nThe link expires in one hour. If it was not you, ignore this mail.`,
  });
}

/** Sets a new password from a reset link; every session of the user is revoked. */
export async function confirmPasswordReset(
  deps: ModuleDeps,
  request: FastifyRequest,
  body: { token: string; password: string },
) {
  const passwordHash = await hashPassword(body.password);
  const email = await deps.db.system(async (tx) => {
    const userId = await consumeUserToken(tx, 'password_reset', body.token);
    if (!userId) throw invalidLink();
    const user = (await findUserById(tx, userId))!;
    assertStrongPassword(body.password, user.email, 'body.password');
    await tx
      .update(users)
      .set({ passwordHash, passwordChangedAt: new Date(), updatedAt: new Date() })
      .where(eq(users.id, userId));
    const revoked = await revokeUserSessionsIn(tx, userId, 'password_reset');
    await auditInHomeOrganization(tx, request, userId, {
      action: 'password_reset',
      metadata: { sessionsRevoked: revoked },
    });
    return user.email;
  });
  await deps.rateLimits.clearLoginFailures(email);
}

/**
 * Audits an event of a user's own account (no organization in the request) in their oldest organization.
 * `tx` must be a `system` transaction (memberships are read across tenants).
 */
export async function auditInHomeOrganization(
  tx: Tx,
  request: FastifyRequest,
  userId: string,
  entry: Omit<AuditEntry, 'actor' | 'entityType' | 'entityId'>,
) {
  const org = await homeOrganizationOf(tx, userId);
  if (org) {
    await audit(tx, request, {
      ...entry,
      actor: { organizationId: org, userId },
      entityType: 'user',
      entityId: userId,
    });
  }
}
