/**
 * Seats (issue 20): an organization's plan allows `plan.seats` members (null: unlimited). A seat is taken
 * by a member or reserved by a pending invitation (neither accepted, revoked nor expired), so an invitation
 * that was sent can always be accepted. The count runs under a lock on the organization's row: two
 * parallel invitations (or acceptances) for the last seat are serialized, and the second one is refused.
 * A plan change to fewer seats than are taken is allowed; nobody is removed, but nobody new joins until
 * members or invitations are below the new limit.
 */
import { AppError, PLANS, type Plan, planFor } from '@aiops/core';
import { queryRows, type Tx } from '@aiops/db';
import { sql } from 'drizzle-orm';

export interface Seats {
  tier: string;
  planName: string;
  /** Seats of the plan; null: unlimited. */
  limit: number | null;
  members: number;
  pendingInvitations: number;
  /** members + pending invitations. */
  used: number;
}

/** Counts the organization's seats; `lock` first takes the organization's row (for a change that adds one). */
export async function countSeats(tx: Tx, organizationId: string, lock = false): Promise<Seats> {
  const [org] = await queryRows<{ tier: string }>(
    tx,
    lock
      ? sql`SELECT subscription_tier AS tier FROM organizations WHERE id = ${organizationId} FOR NO KEY UPDATE`
      : sql`SELECT subscription_tier AS tier FROM organizations WHERE id = ${organizationId}`,
  );
  const plan: Plan = planFor(org?.tier ?? 'starter') ?? PLANS.starter;
  const [n] = await queryRows<{ members: number; pending: number }>(
    tx,
    sql`SELECT (SELECT count(*)::int FROM memberships WHERE organization_id = ${organizationId}) AS members,
          (SELECT count(*)::int FROM invitations WHERE organization_id = ${organizationId}
             AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > now()) AS pending`,
  );
  const members = n?.members ?? 0;
  const pendingInvitations = n?.pending ?? 0;
  return {
    tier: plan.tier,
    planName: plan.name,
    limit: plan.seats,
    members,
    pendingInvitations,
    used: members + pendingInvitations,
  };
}

const refusal = (s: Seats, what: string) =>
  new AppError(
    402,
    'seat_limit_reached',
    `The ${s.planName} plan includes ${s.limit} seats and all are taken (${s.members} members, ${s.pendingInvitations} pending invitations): ${what}`,
    {
      retryable: false,
      details: {
        plan: s.tier,
        limit: s.limit,
        members: s.members,
        pendingInvitations: s.pendingInvitations,
      },
    },
  );

/** Before a new invitation: refuses (402 `seat_limit_reached`) when members and pending invitations fill the plan. */
export async function assertSeatForInvitation(tx: Tx, organizationId: string): Promise<Seats> {
  const s = await countSeats(tx, organizationId, true);
  if (s.limit !== null && s.used >= s.limit) {
    throw refusal(s, 'upgrade the plan, or remove a member or revoke an invitation first');
  }
  return s;
}

/**
 * Before an invitation becomes a membership: its own seat was reserved when it was sent, so only the
 * members count (a plan changed to fewer seats in between refuses it).
 */
export async function assertSeatForMember(tx: Tx, organizationId: string): Promise<Seats> {
  const s = await countSeats(tx, organizationId, true);
  if (s.limit !== null && s.members >= s.limit) {
    throw refusal(s, 'ask an administrator of the organization to upgrade the plan or free a seat');
  }
  return s;
}
