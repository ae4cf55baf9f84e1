import { isPermission, type Permission } from '@aiops/contracts';
import { effectivePermissions } from '@aiops/core';
import { apiKeys, type Database, memberships, organizations, sessions, users } from '@aiops/db';
import { and, eq, isNull } from 'drizzle-orm';
import type { Authenticated, Authenticator } from '../http/auth.ts';
import type { ApiKeyCache } from './auth-cache.ts';
import { type AccessTokens, sha256 } from './tokens.ts';

/** `last_used_at` of an API key is written at most this often (a write per request would be costly). */
const LAST_USED_RESOLUTION_MS = 60_000;

/** Checks a bearer credential: an API key (`aio_…`) or an access token; null when not valid now. */
export function makeAuthenticator(deps: {
  db: Database;
  tokens: AccessTokens;
  apiKeyCache: ApiKeyCache;
}): Authenticator {
  return (credential) =>
    credential.startsWith('aio_')
      ? deps.apiKeyCache.get(credential, () => byApiKey(deps.db, credential))
      : byAccessToken(deps, credential);
}

/** An access token is valid while its session is not revoked or expired and its user is still a member. */
async function byAccessToken(
  deps: { db: Database; tokens: AccessTokens },
  token: string,
): Promise<Authenticated | null> {
  const claims = await deps.tokens.verify(token);
  if (!claims) return null;
  const scope = { organizationId: claims.organizationId, userId: claims.userId };
  const row = await deps.db.withTenant(scope, async (tx) => {
    const [r] = await tx
      .select({
        revokedAt: sessions.revokedAt,
        expiresAt: sessions.expiresAt,
        role: memberships.role,
        extra: memberships.permissions,
        status: organizations.status,
        tier: organizations.subscriptionTier,
        active: users.isActive,
      })
      .from(sessions)
      .innerJoin(
        memberships,
        and(eq(memberships.organizationId, sessions.organizationId), eq(memberships.userId, sessions.userId)),
      )
      .innerJoin(organizations, eq(organizations.id, sessions.organizationId))
      .innerJoin(users, eq(users.id, sessions.userId))
      .where(
        and(
          eq(sessions.id, claims.sessionId),
          eq(sessions.userId, claims.userId),
          isNull(organizations.deletedAt),
          isNull(users.deletedAt),
        ),
      );
    return r;
  });
  if (!row || row.revokedAt || row.expiresAt < new Date() || !row.active) return null;
  return {
    auth: {
      organizationId: claims.organizationId,
      userId: claims.userId,
      apiKeyId: null,
      sessionId: claims.sessionId,
      role: row.role,
      permissions: effectivePermissions(row.role, row.extra),
      organizationStatus: row.status,
    },
    limits: { kind: 'user', id: claims.userId, organizationId: claims.organizationId, tier: row.tier },
  };
}

/**
 * An API key is valid until it expires or is revoked. Its permissions are its scopes, narrowed to what
 * its creator may still do (a demoted creator's keys shrink with them). Looked up by hash across tenants.
 */
async function byApiKey(db: Database, key: string): Promise<Authenticated | null> {
  const hash = sha256(key);
  const row = await db.system(async (tx) => {
    const [k] = await tx
      .select({
        id: apiKeys.id,
        organizationId: apiKeys.organizationId,
        userId: apiKeys.userId,
        scopes: apiKeys.scopes,
        rateLimit: apiKeys.rateLimit,
        expiresAt: apiKeys.expiresAt,
        revokedAt: apiKeys.revokedAt,
        lastUsedAt: apiKeys.lastUsedAt,
        status: organizations.status,
        tier: organizations.subscriptionTier,
        deletedAt: organizations.deletedAt,
        creatorRole: memberships.role,
        creatorExtra: memberships.permissions,
      })
      .from(apiKeys)
      .innerJoin(organizations, eq(organizations.id, apiKeys.organizationId))
      .leftJoin(
        memberships,
        and(eq(memberships.organizationId, apiKeys.organizationId), eq(memberships.userId, apiKeys.userId)),
      )
      .where(eq(apiKeys.keyHash, hash));
    if (!k || k.revokedAt || k.deletedAt || (k.expiresAt && k.expiresAt <= new Date())) return null;
    if (!k.lastUsedAt || Date.now() - k.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS) {
      await tx.update(apiKeys).set({ lastUsedAt: new Date() }).where(eq(apiKeys.id, k.id));
    }
    return k;
  });
  if (!row) return null;
  let permissions = new Set<Permission>(row.scopes.filter(isPermission));
  if (row.userId) {
    if (!row.creatorRole) return null;
    const creator = effectivePermissions(row.creatorRole, row.creatorExtra ?? []);
    permissions = new Set([...permissions].filter((p) => creator.has(p)));
  }
  return {
    auth: {
      organizationId: row.organizationId,
      userId: null,
      apiKeyId: row.id,
      sessionId: null,
      role: null,
      permissions,
      organizationStatus: row.status,
    },
    limits: {
      kind: 'api_key',
      id: row.id,
      organizationId: row.organizationId,
      tier: row.tier,
      keyPerMinute: row.rateLimit,
    },
    expiresAt: row.expiresAt,
  };
}
