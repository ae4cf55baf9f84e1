import { randomUUID } from 'node:crypto';
import type { InvitationDto, Permission, Role } from '@aiops/contracts';
import { AppError, conflict, forbidden, notFound } from '@aiops/core';
import { users } from '@aiops/db';
import { eq } from 'drizzle-orm';
import type { FastifyRequest } from 'fastify';
import { authOf } from '../../http/auth.ts';
import { audit, tenant } from '../../http/tenant.ts';
import type { ModuleDeps } from '../../module.ts';
import { isoOrNull } from '../../services/dto.ts';
import { assertStrongPassword, hashPassword } from '../../services/passwords.ts';
import { issueSession } from '../../services/sessions.ts';
import { randomToken, sha256 } from '../../services/tokens.ts';
import { type PublicUserRow, publicUserColumns } from '../auth/repo.ts';
import * as repo from './repo.ts';
import { assertSeatForInvitation, assertSeatForMember } from './seats.ts';
import { assertGrantable } from './service.ts';

export function toInvitationDto(i: repo.InvitationRow): InvitationDto {
  return {
    id: i.id,
    email: i.email,
    role: i.role,
    permissions: i.permissions as Permission[],
    invitedBy: i.invitedBy,
    expiresAt: i.expiresAt.toISOString(),
    acceptedAt: isoOrNull(i.acceptedAt),
    revokedAt: isoOrNull(i.revokedAt),
    createdAt: i.createdAt.toISOString(),
  };
}

/** Invites someone by email; the token travels only in the mail. */
export async function invite(
  deps: ModuleDeps,
  request: FastifyRequest,
  body: { email: string; role: Role; permissions: Permission[]; expiresInDays: number },
) {
  const auth = authOf(request);
  if (body.role === 'owner' && auth.role !== 'owner') throw forbidden('Only an owner can invite an owner');
  assertGrantable(auth, body.permissions);
  const token = randomToken('inv');
  const { invitation, orgName } = await tenant(request, async (tx) => {
    const members = await repo.listMembers(tx);
    if (members.some((m) => m.email === body.email)) {
      throw conflict('This person is already a member', { field: 'body.email' });
    }
    // Locks the organization's row: parallel invitations for the last seat cannot both pass.
    await assertSeatForInvitation(tx, auth.organizationId);
    const org = await repo.getOrganization(tx, auth.organizationId);
    const invitation = await repo.insertInvitation(tx, {
      organizationId: auth.organizationId,
      email: body.email,
      role: body.role,
      permissions: [...new Set(body.permissions)].sort(),
      tokenHash: sha256(token),
      invitedBy: auth.userId,
      expiresAt: new Date(Date.now() + body.expiresInDays * 86_400_000),
    });
    await audit(tx, request, {
      entityType: 'invitation',
      entityId: invitation.id,
      action: 'created',
      after: toInvitationDto(invitation),
    });
    return { invitation, orgName: org!.name };
  });
  await deps.mailer.send({
    to: body.email,
    subject: `You are invited to ${orgName} on AI Ops Studio`,
    text: `You are invited to join ${orgName} as ${body.role}.\n\nAccept: ${deps.settings.publicUrl}/accept-invite?token=${token}\n\nor POST /api/v1/invitations/${token}/accept (with {"name", "password"} if you have no account yet, or your bearer token if you do).\nThe invitation expires ${invitation.expiresAt.toISOString()}.`,
  });
  return toInvitationDto(invitation);
}

export function listInvitations(
  request: FastifyRequest,
  query: { limit: number; cursor?: string | undefined },
) {
  return tenant(request, async (tx) => {
    const p = await repo.listInvitations(tx, query.limit, query.cursor);
    return { data: p.data.map((r) => toInvitationDto(r.row)), nextCursor: p.nextCursor };
  });
}

export function revokeInvitation(request: FastifyRequest, id: string) {
  return tenant(request, async (tx) => {
    const before = await repo.findInvitation(tx, id);
    if (!before) throw notFound('invitation', id);
    if (before.acceptedAt || before.revokedAt) {
      throw conflict(`The invitation is already ${before.acceptedAt ? 'accepted' : 'revoked'}`);
    }
    const after = (await repo.revokeInvitation(tx, id))!;
    await audit(tx, request, {
      entityType: 'invitation',
      entityId: id,
      action: 'revoked',
      before: toInvitationDto(before),
      after: toInvitationDto(after),
    });
    return toInvitationDto(after);
  });
}

const invalidInvitation = () =>
  new AppError(
    400,
    'invalid_token',
    'The invitation is invalid, expired, revoked or already accepted: ask for a new one',
  );

/**
 * Accepts an invitation. A signed-in user whose email matches joins; someone without an account gives a
 * name and password and gets one (the mailed token proves the address). Answers a session in the org.
 */
export async function accept(
  deps: ModuleDeps,
  request: FastifyRequest,
  token: string,
  body: { name?: string | undefined; password?: string | undefined },
) {
  // The invitee has no tenant yet: find the invitation by its hash across organizations.
  const found = await deps.db.system((tx) => repo.findInvitationByHash(tx, sha256(token)));
  const inv = found?.invitation;
  if (!inv || inv.acceptedAt || inv.revokedAt || inv.expiresAt <= new Date()) throw invalidInvitation();
  const [existing] = await deps.db.system((tx) => tx.select().from(users).where(eq(users.email, inv.email)));
  let passwordHash: string | undefined;
  if (request.auth?.userId) {
    if (!existing || existing.id !== request.auth.userId) {
      throw forbidden('This invitation is for another email address than the one you are signed in with');
    }
  } else if (existing) {
    throw new AppError(
      401,
      'sign_in_required',
      'An account with this email exists: sign in, then accept with your bearer token',
    );
  } else {
    if (!body.name || !body.password) {
      throw new AppError(
        400,
        'validation_failed',
        'Invalid request: you have no account yet: give body.name and body.password',
        {
          details: {
            issues: [
              ...(body.name ? [] : [{ path: 'body.name', message: 'is required for a new account' }]),
              ...(body.password ? [] : [{ path: 'body.password', message: 'is required for a new account' }]),
            ],
          },
        },
      );
    }
    assertStrongPassword(body.password, inv.email, 'body.password');
    passwordHash = await hashPassword(body.password);
  }
  const userId = existing?.id ?? randomUUID();
  return deps.db.withTenant({ organizationId: inv.organizationId, userId }, async (tx) => {
    let user: PublicUserRow | undefined = existing;
    if (!user) {
      [user] = await tx
        .insert(users)
        .values({
          id: userId,
          email: inv.email,
          fullName: body.name!,
          passwordHash,
          emailVerified: true,
          emailVerifiedAt: new Date(),
          passwordChangedAt: new Date(),
        })
        .returning(publicUserColumns);
    }
    if (!(await repo.markInvitationAccepted(tx, inv.id, user!.id))) throw invalidInvitation();
    if (await repo.findMember(tx, user!.id)) throw conflict('You are already a member of this organization');
    await assertSeatForMember(tx, inv.organizationId);
    await repo.insertMember(tx, {
      organizationId: inv.organizationId,
      userId: user!.id,
      role: inv.role,
      permissions: inv.permissions,
      invitedBy: inv.invitedBy,
    });
    const session = await issueSession(tx, deps, request, {
      organizationId: inv.organizationId,
      userId: user!.id,
      mfaVerified: false,
    });
    await audit(tx, request, {
      actor: { organizationId: inv.organizationId, userId: user!.id },
      entityType: 'invitation',
      entityId: inv.id,
      action: 'accepted',
      after: { role: inv.role, permissions: inv.permissions, userId: user!.id, email: inv.email },
    });
    const org = (await repo.getOrganization(tx, inv.organizationId))!;
    return { session, user: user!, org };
  });
}
