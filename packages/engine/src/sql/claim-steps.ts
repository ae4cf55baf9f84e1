import type { AgentPins, Tx } from '@aiops/db';
import { queryRows } from '@aiops/db';
import { sql } from 'drizzle-orm';
import { insertEvents, type NewEvent } from '../events.ts';

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
  claimedAt: Date;
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
  run_status: string;
}

export function toClaimed(r: Row): ClaimedStep {
  return {
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
    claimedAt: new Date(),
  };
}

/**
 * Claims up to `limit` ready steps whose time has come, oldest first (FOR UPDATE SKIP LOCKED, so
 * workers never wait for each other), leases them to `workerId`, and marks their runs running.
 */
export async function claimSteps(
  tx: Tx,
  workerId: string,
  limit: number,
  leaseMs: number,
): Promise<ClaimedStep[]> {
  const rows = await queryRows<Row>(
    tx,
    sql`
    WITH c AS (
      SELECT s.id FROM run_steps s
      WHERE s.status = 'ready' AND s.available_at <= now()
      ORDER BY s.available_at
      LIMIT ${limit}
      FOR UPDATE SKIP LOCKED
    ), claimed AS (
      UPDATE run_steps r
      SET status = 'running', attempt = r.attempt + 1, lease_owner = ${workerId},
          lease_expires_at = now() + ${`${leaseMs} milliseconds`}::interval, started_at = now(), updated_at = now()
      FROM c WHERE r.id = c.id
      RETURNING r.id, r.run_id, r.organization_id, r.node_id, r.attempt, r.failures
    )
    SELECT claimed.*, e.workflow_id, e.workflow_version, e.input_data, e.agent_pins, e.correlation_id,
           e.status AS run_status
    FROM claimed JOIN workflow_executions e ON e.id = claimed.run_id`,
  );
  if (!rows.length) return [];
  await startSteps(tx, rows);
  return rows.map(toClaimed);
}

/** Claims specific ready steps (continuation: successors the worker just made ready). */
export async function claimReadySteps(
  tx: Tx,
  workerId: string,
  stepIds: string[],
  leaseMs: number,
): Promise<ClaimedStep[]> {
  if (!stepIds.length) return [];
  const rows = await queryRows<Row>(
    tx,
    sql`
    WITH claimed AS (
      UPDATE run_steps r
      SET status = 'running', attempt = r.attempt + 1, lease_owner = ${workerId},
          lease_expires_at = now() + ${`${leaseMs} milliseconds`}::interval, started_at = now(), updated_at = now()
      WHERE r.id = ANY(${`{${stepIds.join(',')}}`}::uuid[]) AND r.status = 'ready' AND r.available_at <= now()
      RETURNING r.id, r.run_id, r.organization_id, r.node_id, r.attempt, r.failures
    )
    SELECT claimed.*, e.workflow_id, e.workflow_version, e.input_data, e.agent_pins, e.correlation_id,
           e.status AS run_status
    FROM claimed JOIN workflow_executions e ON e.id = claimed.run_id`,
  );
  if (!rows.length) return [];
  await startSteps(tx, rows);
  return rows.map(toClaimed);
}

async function startSteps(tx: Tx, rows: Row[]) {
  const pendingRuns = [...new Set(rows.filter((r) => r.run_status === 'pending').map((r) => r.run_id))];
  const events: NewEvent[] = [];
  if (pendingRuns.length) {
    const started = await queryRows<{ id: string; organization_id: string }>(
      tx,
      sql`UPDATE workflow_executions SET status = 'running', started_at = coalesce(started_at, now()), updated_at = now()
          WHERE id = ANY(${`{${pendingRuns.join(',')}}`}::uuid[]) AND status = 'pending'
          RETURNING id, organization_id`,
    );
    for (const r of started)
      events.push({ runId: r.id, organizationId: r.organization_id, type: 'run.running' });
  }
  for (const r of rows) {
    events.push({
      runId: r.run_id,
      organizationId: r.organization_id,
      type: 'step.started',
      nodeId: r.node_id,
      data: { attempt: r.attempt },
    });
  }
  await insertEvents(tx, events);
}
