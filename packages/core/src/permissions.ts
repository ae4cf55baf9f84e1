import { PERMISSIONS, type Permission, type Role } from '@aiops/contracts';
import { PLANS } from './plans.ts';

const READ: Permission[] = [
  'organization:read',
  'member:read',
  'agent:read',
  'workflow:read',
  'run:read',
  'integration:read',
];

const BUILD: Permission[] = [
  ...READ,
  'api_key:read',
  'api_key:manage',
  'agent:create',
  'agent:update',
  'agent:delete',
  'agent:execute',
  'workflow:create',
  'workflow:update',
  'workflow:delete',
  'workflow:execute',
  'run:cancel',
  'run:approve',
  'trace:ingest',
  'gateway',
];

/** Owner-only: money and the organization's existence. */
const OWNER_ONLY: Permission[] = ['billing:manage', 'retention:manage'];

const BY_ROLE: Record<Role, ReadonlySet<Permission>> = {
  owner: new Set(PERMISSIONS),
  admin: new Set(PERMISSIONS.filter((p) => !OWNER_ONLY.includes(p))),
  member: new Set(BUILD),
  viewer: new Set(READ),
};

/** The permissions a role grants (seed 003's admin/developer/viewer map to admin/member/viewer). */
export function permissionsForRole(role: Role): ReadonlySet<Permission> {
  return BY_ROLE[role];
}

/** A membership's permissions: its role's, plus its extra grants. */
export function effectivePermissions(role: Role, extra: readonly string[] = []): Set<Permission> {
  const all = new Set<Permission>(BY_ROLE[role]);
  for (const p of extra) if ((PERMISSIONS as readonly string[]).includes(p)) all.add(p as Permission);
  return all;
}

/** Monthly runs allowed in each tier (the plan's execution cap; seed 000: 500 on starter). */
export const MONTHLY_EXECUTION_QUOTA = {
  starter: PLANS.starter.executionCap,
  professional: PLANS.professional.executionCap,
  business: PLANS.business.executionCap,
  enterprise: PLANS.enterprise.executionCap,
} as const;
