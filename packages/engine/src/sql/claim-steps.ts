import { type AgentPins, type Executor, queryRows } from '@aiops/db';
import { sql } from 'drizzle-orm';

/** A step a worker holds the lease of, with what it needs of its run. */
export interface ClaimedStep {
  stepId: string;
  runId: string;
  organizationId: string;
  nodeId: string;
  /** This execution's number (1 for the first). */
  attempt: number;
  /** Earlier executions that failed with an error. */
  failures: number;
  workflowId: string;
  workflowVersion: number;
  input: unknown;
  agentPins: AgentPins;
  correlationId: string;
  /** What the step waited for and how it ended (approval decision, child run, delay), or an input override. */
  wait: Record<string, unknown> | null;
  /** How deep the run is in a chain of sub-workflows (0 for a top-level run). */
  depth: number;
  /** USD the run has spent so far (decimal string). */
  runSpent: string | number;
  /** The organization's monthly budget in USD (`settings.monthlyBudgetUsd`), if it has one. */
  orgBudget: string | number | null;
  /** USD the organization has spent this month. */
  orgSpent: string | number;
}

/**
 * Claims up to `limit` ready steps whose time has come, oldest first, with FOR UPDATE SKIP LOCKED (workers
 * never wait for each other and never take the same step), leases them and marks their runs running:
 * one call of the SQL function `aiops_claim_steps` (migration 0007).
 */
export async function claimSteps(
  ex: Executor,
  workerId: string,
  limit: number,
  leaseMs: number,
): Promise<ClaimedStep[]> {
  const [row] = await queryRows<{ r: ClaimedStep[] }>(
    ex,
    sql`SELECT aiops_claim_steps(${workerId}, ${limit}, ${leaseMs}) AS r`,
  );
  return row!.r;
}
