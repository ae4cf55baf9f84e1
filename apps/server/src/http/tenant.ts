import { auditLogs, type Database, type Tx } from '@aiops/db';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { authOf } from './auth.ts';
import { maskRecord } from './mask.ts';

declare module 'fastify' {
  interface FastifyInstance {
    db: Database;
  }
  interface FastifyRequest {
    /** How many audit rows this request wrote (a mutating request that wrote none is logged). */
    auditCount: number;
  }
}

/**
 * Runs `fn` in a transaction scoped to the caller's organization and, for a signed-in user, to that user
 * (their own `users` row, tokens and identities); row-level security applies.
 */
export function tenant<T>(request: FastifyRequest, fn: (tx: Tx) => Promise<T>): Promise<T> {
  const auth = authOf(request);
  return request.server.db.withTenant({ organizationId: auth.organizationId, userId: auth.userId }, fn);
}

export interface AuditEntry {
  entityType: string;
  entityId?: string | null;
  action: string;
  before?: Record<string, unknown> | null;
  after?: Record<string, unknown> | null;
  metadata?: Record<string, unknown>;
  /** For requests without a caller yet (sign-up, sign-in): who acts, in which organization. */
  actor?: { organizationId: string; userId?: string | null; apiKeyId?: string | null };
}

/**
 * Writes the audit row of a change in the transaction of that change: actor (user or API key), entity,
 * action, masked before/after, client address, user agent, request id. Audit rows are append-only.
 */
export async function audit(tx: Tx, request: FastifyRequest, entry: AuditEntry): Promise<void> {
  const actor = entry.actor ?? {
    organizationId: authOf(request).organizationId,
    userId: request.auth?.userId ?? null,
    apiKeyId: request.auth?.apiKeyId ?? null,
  };
  const ua = request.headers['user-agent'];
  await tx.insert(auditLogs).values({
    organizationId: actor.organizationId,
    userId: actor.userId ?? null,
    apiKeyId: actor.apiKeyId ?? null,
    entityType: entry.entityType,
    entityId: entry.entityId ?? null,
    action: entry.action,
    changes: presentChanges({ before: maskRecord(entry.before), after: maskRecord(entry.after) }),
    ipAddress: request.ip.slice(0, 45),
    userAgent: typeof ua === 'string' ? ua.slice(0, 1000) : null,
    requestId: String(request.id).slice(0, 64),
    metadata: entry.metadata ?? {},
  });
  request.auditCount += 1;
}

/**
 * Only the sides a change has (a sign-in has neither: null), so readers never see `before: null`.
 * Also applied when reading rows written before this rule.
 */
export function presentChanges(
  c: { before?: Record<string, unknown> | null; after?: Record<string, unknown> | null } | null | undefined,
): { before?: Record<string, unknown>; after?: Record<string, unknown> } | null {
  if (!c) return null;
  const out: { before?: Record<string, unknown>; after?: Record<string, unknown> } = {};
  if (c.before) out.before = c.before;
  if (c.after) out.after = c.after;
  return out.before || out.after ? out : null;
}

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Decorations for tenant work, and a warning in the log for a successful mutation that wrote no audit row. */
export function registerTenancy(app: FastifyInstance, db: Database): void {
  app.decorate('db', db);
  app.decorateRequest('auditCount', 0);
  app.addHook('onResponse', async (request, reply) => {
    const permission = request.routeOptions.config?.permission;
    if (
      permission !== undefined &&
      MUTATING.has(request.method) &&
      reply.statusCode < 300 &&
      request.auditCount === 0 &&
      request.routeOptions.config?.audit !== false
    ) {
      request.log.warn(
        { route: request.routeOptions.url },
        'mutating request wrote no audit row: call audit(tx, request, …) in its transaction',
      );
    }
  });
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** false: this mutating route changes nothing worth auditing (e.g. it only sends an email). */
    audit?: boolean;
  }
}
