import type { TokenPair } from '@aiops/contracts';
import { AppError } from '@aiops/core';
import { memberships, sessions, type Tx, users } from '@aiops/db';
import { and, eq, isNull, or, sql } from 'drizzle-orm';
import type { FastifyRequest } from 'fastify';
import { audit } from '../http/tenant.ts';
import type { ModuleDeps } from '../module.ts';
import { randomToken, sha256 } from './tokens.ts';

export interface IssuedSession extends TokenPair {
  sessionId: string;
}

const clientOf = (request: FastifyRequest) => {
  const ua = request.headers['user-agent'];
  return { ipAddress: request.ip.slice(0, 45), userAgent: typeof ua === 'string' ? ua.slice(0, 1000) : null };
};

/** Starts a session of a user in an organization (in the caller's transaction) and issues its tokens. */
export async function issueSession(
  tx: Tx,
  deps: Pick<ModuleDeps, 'tokens' | 'settings'>,
  request: FastifyRequest,
  who: { organizationId: string; userId: string; mfaVerified: boolean },
): Promise<IssuedSession> {
  const refreshToken = randomToken('rt');
  const [row] = await tx
    .insert(sessions)
    .values({
      organizationId: who.organizationId,
      userId: who.userId,
      refreshTokenHash: sha256(refreshToken),
      mfaVerified: who.mfaVerified,
      expiresAt: new Date(Date.now() + deps.settings.refreshTokenTtlSeconds * 1000),
      ...clientOf(request),
    })
    .returning({ id: sessions.id });
  const sessionId = row!.id;
  const token = await deps.tokens.sign({ userId: who.userId, organizationId: who.organizationId, sessionId });
  return { token, refreshToken, tokenType: 'Bearer', expiresIn: deps.tokens.ttlSeconds, sessionId };
}

const invalidRefresh = () =>
  new AppError(
    401,
    'invalid_refresh_token',
    'The refresh token is invalid, expired or revoked: sign in again',
  );

/**
 * Exchanges a refresh token for a new pair (rotation: the old one stops working). Presenting an already
 * rotated token is treated as theft: the whole session is revoked. A sign-in lookup across tenants, so it
 * runs as `system`.
 */
export async function refreshSession(
  deps: Pick<ModuleDeps, 'db' | 'tokens' | 'settings'>,
  request: FastifyRequest,
  refreshToken: string,
): Promise<IssuedSession & { organizationId: string; userId: string }> {
  const hash = sha256(refreshToken);
  const result = await deps.db.system(async (tx) => {
    const [s] = await tx
      .select({
        id: sessions.id,
        organizationId: sessions.organizationId,
        userId: sessions.userId,
        current: sessions.refreshTokenHash,
        revokedAt: sessions.revokedAt,
        expiresAt: sessions.expiresAt,
        member: memberships.id,
        active: users.isActive,
      })
      .from(sessions)
      .innerJoin(users, eq(users.id, sessions.userId))
      .leftJoin(
        memberships,
        and(eq(memberships.organizationId, sessions.organizationId), eq(memberships.userId, sessions.userId)),
      )
      .where(or(eq(sessions.refreshTokenHash, hash), eq(sessions.previousRefreshTokenHash, hash)))
      .for('update', { of: sessions })
      .limit(1);
    if (!s) return null;
    if (s.current !== hash) {
      await tx
        .update(sessions)
        .set({ revokedAt: new Date(), revokedReason: 'refresh_token_reuse' })
        .where(and(eq(sessions.id, s.id), isNull(sessions.revokedAt)));
      await audit(tx, request, {
        actor: { organizationId: s.organizationId, userId: s.userId },
        entityType: 'session',
        entityId: s.id,
        action: 'revoked_refresh_token_reuse',
      });
      return null;
    }
    if (s.revokedAt || s.expiresAt < new Date() || !s.member || !s.active) return null;
    const next = randomToken('rt');
    await tx
      .update(sessions)
      .set({
        refreshTokenHash: sha256(next),
        previousRefreshTokenHash: hash,
        lastUsedAt: new Date(),
        ...clientOf(request),
      })
      .where(eq(sessions.id, s.id));
    await audit(tx, request, {
      actor: { organizationId: s.organizationId, userId: s.userId },
      entityType: 'session',
      entityId: s.id,
      action: 'refreshed',
    });
    return { sessionId: s.id, organizationId: s.organizationId, userId: s.userId, refreshToken: next };
  });
  if (!result) throw invalidRefresh();
  const token = await deps.tokens.sign(result);
  return { ...result, token, tokenType: 'Bearer', expiresIn: deps.tokens.ttlSeconds };
}

export async function revokeSession(tx: Tx, sessionId: string, reason: string): Promise<void> {
  await tx
    .update(sessions)
    .set({ revokedAt: new Date(), revokedReason: reason })
    .where(and(eq(sessions.id, sessionId), isNull(sessions.revokedAt)));
}

/**
 * Revokes every session of a user in every organization (password change or reset, removal). Crosses
 * tenants: `tx` must be a `system` transaction. Returns how many were revoked.
 */
export async function revokeUserSessionsIn(tx: Tx, userId: string, reason: string): Promise<number> {
  const rows = await tx
    .update(sessions)
    .set({ revokedAt: sql`now()`, revokedReason: reason })
    .where(and(eq(sessions.userId, userId), isNull(sessions.revokedAt)))
    .returning({ id: sessions.id });
  return rows.length;
}
