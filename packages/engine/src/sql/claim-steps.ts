import { type AgentPins, queryRows, type Tx } from '@aiops/db';
import { type SQL, sql } from 'drizzle-orm';
import { CHANNELS } from '../types.ts';

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
}

interface Row {
  id: string;
  run_id: string;
  organization_id: string;
  node_id: string;
  attempt: number;
  failures: number;
  workflow_id: string;
  workflow_version: number;
  input_data: unknown;
  agent_pins: AgentPins;
  correlation_id: string;
}

const toClaimed = (r: Row): ClaimedStep => ({
  stepId: r.id,
  runId: r.run_id,
  organizationId: r.organization_id,
  nodeId: r.node_id,
  attempt: r.attempt,
  failures: r.failures,
  workflowId: r.workflow_id,
  workflowVersion: r.workflow_version,
  input: r.input_data,
  agentPins: r.agent_pins,
  correlationId: r.correlation_id,
});

/**
 * One statement: lease the chosen steps to the worker, mark their runs running (pending → running),
 * announce the runs, and return each step with its run's input.
 */
function lease(tx: Tx, choose: SQL, workerId: string, leaseMs: number): Promise<ClaimedStep[]> {
  return queryRows<Row>(
    tx,
    sql`WITH c AS (${choose}), claimed AS (
      UPDATE run_steps r
      SET status = 'running', attempt = r.attempt + 1, lease_owner = ${workerId},
          lease_expires_at = now() + make_interval(secs => ${leaseMs / 1000}), started_at = now(), updated_at = now()
      FROM c WHERE r.id = c.id
      RETURNING r.id, r.run_id, r.organization_id, r.node_id, r.attempt, r.failures
    ), started AS (
      UPDATE workflow_executions e SET status = 'running', started_at = coalesce(e.started_at, now()), updated_at = now()
      WHERE e.id IN (SELECT run_id FROM claimed) AND e.status = 'pending'
    )
    SELECT claimed.*, e.workflow_id, e.workflow_version, e.input_data, e.agent_pins, e.correlation_id,
      (SELECT pg_notify(${CHANNELS.runEvents}, coalesce((SELECT json_agg(DISTINCT run_id)::text FROM claimed), '[]'))) AS announced
    FROM claimed JOIN workflow_executions e ON e.id = claimed.run_id`,
  ).then((rows) => rows.map(toClaimed));
}

/**
 * Claims up to `limit` ready steps whose time has come, oldest first. FOR UPDATE SKIP LOCKED: workers
 * never wait for each other and never take the same step.
 */
export function claimSteps(tx: Tx, workerId: string, limit: number, leaseMs: number): Promise<ClaimedStep[]> {
  return lease(
    tx,
    sql`SELECT s.id FROM run_steps s WHERE s.status = 'ready' AND s.available_at <= now()
        ORDER BY s.available_at LIMIT ${limit} FOR UPDATE SKIP LOCKED`,
    workerId,
    leaseMs,
  );
}

/** Claims specific ready steps (continuation: successors the worker just made ready). */
export function claimReadySteps(
  tx: Tx,
  workerId: string,
  stepIds: string[],
  leaseMs: number,
): Promise<ClaimedStep[]> {
  if (!stepIds.length) return Promise.resolve([]);
  return lease(
    tx,
    sql`SELECT s.id FROM run_steps s WHERE s.id = ANY(${`{${stepIds.join(',')}}`}::uuid[])
        AND s.status = 'ready' AND s.available_at <= now() FOR UPDATE SKIP LOCKED`,
    workerId,
    leaseMs,
  );
}
