/**
 * Permission strings. A role grants a fixed set (packages/core `permissionsForRole`); a membership may add
 * extra grants; an API key carries a subset of its creator's permissions as its scopes.
 */
export const PERMISSIONS = [
  'organization:read',
  'organization:update',
  'member:read',
  'member:manage',
  'billing:read',
  'billing:manage',
  'api_key:read',
  'api_key:manage',
  'audit:read',
  'retention:manage',
  'organization:export',
  'integration:read',
  'integration:manage',
  'agent:read',
  'agent:create',
  'agent:update',
  'agent:delete',
  'agent:execute',
  'workflow:read',
  'workflow:create',
  'workflow:update',
  'workflow:delete',
  'workflow:execute',
  'run:read',
  'run:cancel',
  'run:approve',
  'trace:ingest',
  'gateway',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

export const ROLES = ['owner', 'admin', 'member', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

export const isPermission = (value: string): value is Permission =>
  (PERMISSIONS as readonly string[]).includes(value);
