import type { ApiKeyDto, Permission } from '@aiops/contracts';
import { badRequest, forbidden, notFound } from '@aiops/core';
import type { FastifyRequest } from 'fastify';
import { authOf } from '../../http/auth.ts';
import { audit, tenant } from '../../http/tenant.ts';
import { isoOrNull } from '../../services/dto.ts';
import { randomToken, sha256 } from '../../services/tokens.ts';
import * as repo from './repo.ts';

export const KEY_PREFIX_LENGTH = 12;

export function toApiKeyDto(k: repo.ApiKeyRow): ApiKeyDto {
  return {
    id: k.id,
    name: k.name,
    prefix: k.keyPrefix,
    scopes: k.scopes as Permission[],
    rateLimit: k.rateLimit,
    userId: k.userId,
    lastUsedAt: isoOrNull(k.lastUsedAt),
    expiresAt: isoOrNull(k.expiresAt),
    revokedAt: isoOrNull(k.revokedAt),
    createdAt: k.createdAt.toISOString(),
  };
}

/** A new key: its scopes must be a subset of the creator's permissions. The secret is returned once. */
export async function createApiKey(
  request: FastifyRequest,
  body: { name: string; scopes: Permission[]; expiresAt?: string | undefined; rateLimit: number },
) {
  const auth = authOf(request);
  const missing = body.scopes.filter((s) => !auth.permissions.has(s));
  if (missing.length) {
    throw forbidden(`A key cannot have more than its creator: you lack ${missing.join(', ')}`, {
      scopes: missing,
    });
  }
  const expiresAt = body.expiresAt ? new Date(body.expiresAt) : null;
  if (expiresAt && expiresAt.getTime() <= Date.now()) {
    throw badRequest(
      'body.expiresAt is in the past: give a future time, or omit it for a key that does not expire',
      {
        issues: [{ path: 'body.expiresAt', message: 'must be in the future' }],
      },
    );
  }
  const key = randomToken('aio');
  const row = await tenant(request, async (tx) => {
    const row = await repo.insertApiKey(tx, {
      organizationId: auth.organizationId,
      userId: auth.userId,
      name: body.name,
      keyHash: sha256(key),
      keyPrefix: key.slice(0, KEY_PREFIX_LENGTH),
      scopes: [...new Set(body.scopes)].sort(),
      rateLimit: body.rateLimit,
      expiresAt,
    });
    await audit(tx, request, {
      entityType: 'api_key',
      entityId: row.id,
      action: 'created',
      after: toApiKeyDto(row),
    });
    return row;
  });
  return { apiKey: toApiKeyDto(row), key };
}

export function listApiKeys(request: FastifyRequest, query: { limit: number; cursor?: string | undefined }) {
  return tenant(request, async (tx) => {
    const p = await repo.listApiKeys(tx, query.limit, query.cursor);
    return { data: p.data.map((r) => toApiKeyDto(r.row)), nextCursor: p.nextCursor };
  });
}

export function getApiKey(request: FastifyRequest, id: string) {
  return tenant(request, async (tx) => {
    const row = await repo.findApiKey(tx, id);
    if (!row) throw notFound('api_key', id);
    return toApiKeyDto(row);
  });
}

/** Revokes a key: the next request with it is refused. Revoking a revoked key changes nothing. */
export function revokeApiKey(request: FastifyRequest, id: string) {
  return tenant(request, async (tx) => {
    const before = await repo.findApiKey(tx, id);
    if (!before) throw notFound('api_key', id);
    if (before.revokedAt) return toApiKeyDto(before);
    const row = (await repo.revokeApiKey(tx, id)) ?? before;
    await audit(tx, request, {
      entityType: 'api_key',
      entityId: id,
      action: 'revoked',
      before: toApiKeyDto(before),
      after: toApiKeyDto(row),
    });
    return toApiKeyDto(row);
  });
}
