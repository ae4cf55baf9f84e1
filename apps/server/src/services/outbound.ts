/**
 * The outbound-address policy on the server side: an organization's policy is its
 * `settings.allowPrivateNetworks` with the operator's AIOPS_PRIVATE_NETWORK_CATEGORIES (nothing else), and
 * user configs (agents' tool configs, workflows' tool nodes and inline agents) are checked against it when
 * saved: policy fields are refused, and literal URLs that are or resolve to refused addresses too.
 */
import { badRequest } from '@aiops/core';
import { organizations, type Tx } from '@aiops/db';
import {
  type AddressCategory,
  type OutboundPolicy,
  outboundConfigIssues,
  outboundPolicy,
} from '@aiops/providers';
import { eq, sql } from 'drizzle-orm';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { authOf } from '../http/auth.ts';

declare module 'fastify' {
  interface FastifyInstance {
    /** What an organization's "allow private networks" unlocks (undefined: the default set). */
    privateNetworkCategories: readonly AddressCategory[] | undefined;
  }
}

export function registerOutbound(app: FastifyInstance, categories: readonly AddressCategory[] | undefined) {
  app.decorate('privateNetworkCategories', categories);
}

/** The organization's `settings.allowPrivateNetworks`. */
export async function allowsPrivateNetworks(tx: Tx, organizationId: string): Promise<boolean> {
  const [row] = await tx
    .select({ allow: sql<boolean | null>`(${organizations.settings}->>'allowPrivateNetworks')::boolean` })
    .from(organizations)
    .where(eq(organizations.id, organizationId));
  return row?.allow === true;
}

/** The organization's outbound policy. */
export async function policyOf(
  tx: Tx,
  organizationId: string,
  privateCategories: readonly AddressCategory[] | undefined,
): Promise<OutboundPolicy> {
  return outboundPolicy({
    allowPrivateNetworks: await allowsPrivateNetworks(tx, organizationId),
    privateCategories,
  });
}

/** The calling organization's outbound policy. */
export function requestPolicy(tx: Tx, request: FastifyRequest): Promise<OutboundPolicy> {
  return policyOf(tx, authOf(request).organizationId, request.server.privateNetworkCategories);
}

/**
 * Refuses (400, each problem as an issue) an agent's tool configs or a workflow definition that carries a
 * policy field or a literal URL the organization's policy refuses.
 */
export async function refuseUnsafeOutbound(
  tx: Tx,
  request: FastifyRequest,
  target: { toolConfigs: unknown } | { definition: unknown },
): Promise<void> {
  const issues = await outboundConfigIssues(target, await requestPolicy(tx, request));
  if (issues.length === 0) return;
  const prefix = 'toolConfigs' in target ? 'body' : 'body.definition';
  throw badRequest(`${issues[0]!.path}: ${issues[0]!.message}`, {
    issues: issues.map((i) => ({ ...i, path: `${prefix}.${i.path}` })),
  });
}
