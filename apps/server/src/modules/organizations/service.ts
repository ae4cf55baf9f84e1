import type { MemberDto, Permission, Role } from '@aiops/contracts';
import { AppError, forbidden, MONTHLY_EXECUTION_QUOTA, notFound } from '@aiops/core';
import type { FastifyRequest } from 'fastify';
import { type AuthContext, authOf } from '../../http/auth.ts';
import { audit, tenant } from '../../http/tenant.ts';
import { toOrganizationDto } from '../../services/dto.ts';
import { recordPlanChange } from '../billing/ledger.ts';
import * as repo from './repo.ts';

export function toMemberDto(m: repo.MemberRow): MemberDto {
  return {
    userId: m.userId,
    email: m.email,
    name: m.name,
    role: m.role,
    permissions: m.permissions as Permission[],
    joinedAt: m.joinedAt.toISOString(),
  };
}

const lastOwner = () =>
  new AppError(409, 'last_owner', 'The organization must keep an owner: make another member owner first');

/** Only an owner may make, unmake or remove an owner. */
function assertOwnerRules(auth: AuthContext, touchesOwner: boolean) {
  if (touchesOwner && auth.role !== 'owner') {
    throw forbidden('Only an owner can grant, change or remove the owner role');
  }
}

/** Extra grants cannot exceed the granter's own permissions. */
export function assertGrantable(auth: AuthContext, permissions: readonly Permission[]) {
  const missing = permissions.filter((p) => !auth.permissions.has(p));
  if (missing.length)
    throw forbidden(`You cannot grant what you lack: ${missing.join(', ')}`, { permissions: missing });
}

export function getOrganization(request: FastifyRequest) {
  return tenant(request, async (tx) => {
    const org = await repo.getOrganization(tx, authOf(request).organizationId);
    if (!org) throw notFound('organization');
    return toOrganizationDto(org);
  });
}

/**
 * Renames (organization:update); changes tier or status (billing:manage). A suspended organization may
 * only change its tier and status.
 */
export function patchOrganization(
  request: FastifyRequest,
  body: {
    name?: string | undefined;
    billingEmail?: string | null | undefined;
    subscriptionTier?: repo.OrganizationRow['subscriptionTier'] | undefined;
    status?: repo.OrganizationRow['status'] | undefined;
    settings?:
      | { allowPrivateNetworks?: boolean | undefined; monthlyBudgetUsd?: number | null | undefined }
      | undefined;
  },
) {
  const auth = authOf(request);
  const profile =
    body.name !== undefined ||
    body.billingEmail !== undefined ||
    body.settings?.allowPrivateNetworks !== undefined;
  const billing =
    body.subscriptionTier !== undefined ||
    body.status !== undefined ||
    body.settings?.monthlyBudgetUsd !== undefined;
  if (profile && !auth.permissions.has('organization:update')) {
    throw forbidden(
      'Changing name, billing email or network settings needs the permission "organization:update"',
      {
        permission: 'organization:update',
      },
    );
  }
  if (billing && !auth.permissions.has('billing:manage')) {
    throw forbidden('Changing tier, status or the monthly budget needs the permission "billing:manage"', {
      permission: 'billing:manage',
    });
  }
  if (profile && auth.organizationStatus !== 'active') {
    throw new AppError(
      403,
      'organization_suspended',
      `The organization is ${auth.organizationStatus}: only its tier and status can change`,
    );
  }
  return tenant(request, async (tx) => {
    const before = await repo.getOrganization(tx, auth.organizationId);
    if (!before) throw notFound('organization');
    const values: Record<string, unknown> = Object.fromEntries(
      Object.entries(body).filter(([, v]) => v !== undefined),
    );
    if (body.settings) {
      const merged: Record<string, unknown> = { ...before.settings };
      for (const [k, v] of Object.entries(body.settings)) {
        if (v === null) delete merged[k];
        else if (v !== undefined) merged[k] = v;
      }
      values.settings = merged;
    }
    // A tier brings its monthly execution quota.
    if (body.subscriptionTier) values.monthlyExecutionQuota = MONTHLY_EXECUTION_QUOTA[body.subscriptionTier];
    const after = await repo.updateOrganization(tx, auth.organizationId, values);
    if (after.subscriptionTier !== before.subscriptionTier)
      await recordPlanChange(tx, after.id, before.subscriptionTier, after.subscriptionTier);
    await audit(tx, request, {
      entityType: 'organization',
      entityId: after.id,
      action: 'updated',
      before: pick(toOrganizationDto(before), Object.keys(values)),
      after: pick(toOrganizationDto(after), Object.keys(values)),
    });
    return toOrganizationDto(after);
  });
}

const pick = (o: Record<string, unknown>, keys: string[]) => Object.fromEntries(keys.map((k) => [k, o[k]]));

export function listMembers(request: FastifyRequest) {
  return tenant(request, async (tx) => (await repo.listMembers(tx)).map(toMemberDto));
}

export function patchMember(
  request: FastifyRequest,
  userId: string,
  body: { role?: Role | undefined; permissions?: Permission[] | undefined },
) {
  const auth = authOf(request);
  return tenant(request, async (tx) => {
    const member = await repo.findMember(tx, userId);
    if (!member) throw notFound('member', userId);
    assertOwnerRules(auth, body.role === 'owner' || (member.role === 'owner' && body.role !== undefined));
    if (body.permissions) assertGrantable(auth, body.permissions);
    if (member.role === 'owner' && body.role && body.role !== 'owner' && (await repo.countOwners(tx)) <= 1) {
      throw lastOwner();
    }
    const values = {
      ...(body.role ? { role: body.role } : {}),
      ...(body.permissions ? { permissions: [...new Set(body.permissions)].sort() } : {}),
    };
    await repo.updateMember(tx, userId, values);
    const after = { ...member, ...values };
    await audit(tx, request, {
      entityType: 'membership',
      entityId: userId,
      action: 'updated',
      before: { role: member.role, permissions: member.permissions },
      after: { role: after.role, permissions: after.permissions },
    });
    return toMemberDto(after);
  });
}

/**
 * Removes a member (member:manage), or the caller leaves. The last owner can do neither. The member's
 * sessions and API keys in this organization are revoked with the membership.
 */
export function removeMember(request: FastifyRequest, userId: string) {
  const auth = authOf(request);
  const self = auth.userId === userId;
  if (!self && !auth.permissions.has('member:manage')) {
    throw forbidden('Removing another member needs the permission "member:manage"', {
      permission: 'member:manage',
    });
  }
  if (!self && auth.organizationStatus !== 'active') {
    throw new AppError(
      403,
      'organization_suspended',
      `The organization is ${auth.organizationStatus}: members cannot be removed`,
    );
  }
  return tenant(request, async (tx) => {
    const member = await repo.findMember(tx, userId);
    if (!member) throw notFound('member', userId);
    if (!self) assertOwnerRules(auth, member.role === 'owner');
    if (member.role === 'owner' && (await repo.countOwners(tx)) <= 1) throw lastOwner();
    await repo.deleteMember(tx, userId);
    await audit(tx, request, {
      entityType: 'membership',
      entityId: userId,
      action: self ? 'left' : 'removed',
      before: { role: member.role, permissions: member.permissions, email: member.email },
    });
  });
}
