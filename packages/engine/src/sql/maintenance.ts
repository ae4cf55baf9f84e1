import { queryRows, type Tx } from '@aiops/db';
import { sql } from 'drizzle-orm';
import { notify } from '../events.ts';
import { CHANNELS } from '../types.ts';
import { recordWorkflowCounters } from './complete-steps.ts';

const uuids = (ids: string[]) => `{${ids.join(',')}}`;

/** Renews this worker's leases; returns the step ids it still holds (the others were lost or stopped). */
export async function renewLeases(
  tx: Tx,
  workerId: string,
  stepIds: string[],
  leaseMs: number,
): Promise<Set<string>> {
  if (!stepIds.length) return new Set();
  const rows = await queryRows<{ id: string }>(
    tx,
    sql`UPDATE run_steps SET lease_expires_at = now() + ${`${leaseMs} milliseconds`}::interval
        WHERE id = ANY(${uuids(stepIds)}::uuid[]) AND lease_owner = ${workerId} AND status = 'running'
        RETURNING id`,
  );
  return new Set(rows.map((r) => r.id));
}

/**
 * Of these runs, those no longer active (cancelled, failed, timed out): their steps must stop. A paused run
 * is active: its steps in flight finish (pauseRun), they are recorded, and nothing new starts until it
 * resumes.
 */
export async function stoppedRuns(tx: Tx, runIds: string[]): Promise<Set<string>> {
  if (!runIds.length) return new Set();
  const rows = await queryRows<{ id: string }>(
    tx,
    sql`SELECT id FROM workflow_executions WHERE id = ANY(${uuids(runIds)}::uuid[])
        AND status NOT IN ('pending', 'running', 'paused')`,
  );
  return new Set(rows.map((r) => r.id));
}

/**
 * Returns steps whose lease expired (their worker died or stalled) to the queue, recording the lost
 * attempt. A step that lost `maxLost` leases fails, and its run with it. A worker does not reclaim the
 * steps it is still working on (its heartbeat renews those), only ones it lost track of.
 */
export async function reclaimExpiredLeases(
  tx: Tx,
  maxLost: number,
  exceptWorker: string,
  exceptSteps: string[],
): Promise<number> {
  const lost = await queryRows<{
    id: string;
    run_id: string;
    node_id: string;
    organization_id: string;
    attempt: number;
    lease_owner: string;
    started_at: string;
  }>(
    tx,
    sql`SELECT id, run_id, node_id, organization_id, attempt, lease_owner, started_at FROM run_steps
        WHERE status = 'running' AND lease_expires_at < now()
          AND NOT (lease_owner = ${exceptWorker} AND id = ANY(${uuids(exceptSteps)}::uuid[]))
        ORDER BY lease_expires_at LIMIT 500 FOR UPDATE SKIP LOCKED`,
  );
  if (!lost.length) return 0;
  const giveUp = lost.filter((l) => l.attempt >= maxLost);
  const retry = lost.filter((l) => l.attempt < maxLost);
  // A lost attempt of an agent node names its agent and version (the run's pin for the node), like a failed
  // one: its `agent_task_failed` event reaches the agent's alert rules and its failures count.
  await tx.execute(sql`
    INSERT INTO agent_executions (organization_id, workflow_execution_id, node_id, node_type, agent_id,
      agent_version, attempt, status, status_reason, started_at, completed_at, worker_id, error_details)
    SELECT v.organization_id, v.run_id, v.node_id, CASE WHEN pin IS NULL THEN 'unknown' ELSE 'agent' END,
      (pin->>'agentId')::uuid, (pin->>'versionNumber')::int, v.attempt, 'failed',
      'worker lost: its lease expired', v.started_at, now(), v.lease_owner,
      '{"code":"worker_lost","retryable":true}'::jsonb
    FROM jsonb_to_recordset(${JSON.stringify(lost)}::jsonb)
      AS v(organization_id uuid, run_id uuid, node_id text, attempt int, lease_owner text, started_at timestamptz)
    LEFT JOIN workflow_executions e ON e.id = v.run_id
    CROSS JOIN LATERAL (SELECT e.agent_pins -> v.node_id AS pin) p`);
  if (retry.length) {
    await tx.execute(sql`UPDATE run_steps SET status = 'ready', available_at = now(), lease_owner = NULL,
        lease_expires_at = NULL, updated_at = now() WHERE id = ANY(${uuids(retry.map((r) => r.id))}::uuid[])`);
    await notify(tx, CHANNELS.wake);
  }
  if (giveUp.length) {
    await tx.execute(sql`UPDATE run_steps SET status = 'failed', completed_at = now(), lease_owner = NULL,
        lease_expires_at = NULL, error = '{"code":"worker_lost","message":"the step lost its worker too many times"}'::jsonb,
        updated_at = now() WHERE id = ANY(${uuids(giveUp.map((r) => r.id))}::uuid[])`);
    await stopRuns(
      tx,
      [...new Set(giveUp.map((g) => g.run_id))],
      'failed',
      'worker_lost',
      'A step lost its worker too many times',
    );
  }
  await notify(tx, CHANNELS.runEvents, [...new Set(lost.map((l) => l.run_id))]);
  return lost.length;
}

/** Runs past their deadline become `timeout`; their unfinished steps stop. */
export async function timeOutRuns(tx: Tx): Promise<number> {
  const due = await queryRows<{ id: string }>(
    tx,
    sql`SELECT id FROM workflow_executions
        WHERE status IN ('queued', 'pending', 'running', 'paused') AND timeout_at < now()
        ORDER BY timeout_at LIMIT 500 FOR UPDATE SKIP LOCKED`,
  );
  if (!due.length) return 0;
  await stopRuns(
    tx,
    due.map((d) => d.id),
    'timeout',
    'run_timeout',
    'The run exceeded its timeout',
  );
  return due.length;
}

/**
 * Ends runs (cancelled, failed or timed out): the run row, its unfinished steps, the workflows' counters,
 * and NOTIFYs so workers abort running steps and event streams learn of it. Returns the runs stopped.
 */
export async function stopRuns(
  tx: Tx,
  runIds: string[],
  status: 'cancelled' | 'failed' | 'timeout',
  code: string,
  message: string,
): Promise<string[]> {
  if (!runIds.length) return [];
  // Sub-runs stop with their parent.
  const children = await queryRows<{ id: string }>(
    tx,
    sql`SELECT id FROM workflow_executions WHERE parent_execution_id = ANY(${uuids(runIds)}::uuid[])
        AND status IN ('queued', 'pending', 'running', 'paused')`,
  );
  if (children.length) {
    await stopRuns(
      tx,
      children.map((c) => c.id),
      'cancelled',
      'parent_stopped',
      'Its parent run stopped',
    );
  }
  const stopped = await queryRows<{
    id: string;
    organization_id: string;
    workflow_id: string;
    duration_ms: number;
    estimated_cost: string;
  }>(
    tx,
    sql`UPDATE workflow_executions e SET status = ${status}, status_reason = ${message}, error_code = ${code},
          error_message = ${status === 'cancelled' ? null : message}, completed_at = now(),
          duration_ms = (extract(epoch FROM now() - coalesce(e.started_at, e.created_at)) * 1000)::int, updated_at = now()
        WHERE id = ANY(${uuids(runIds)}::uuid[]) AND status IN ('queued', 'pending', 'running', 'paused')
        RETURNING e.id, e.organization_id, e.workflow_id, e.duration_ms, e.estimated_cost::text`,
  );
  if (!stopped.length) return [];
  const ids = stopped.map((s) => s.id);
  await tx.execute(sql`UPDATE run_steps SET status = 'cancelled', completed_at = now(), updated_at = now()
      WHERE run_id = ANY(${uuids(ids)}::uuid[]) AND status IN ('pending', 'ready', 'waiting')`);
  await recordWorkflowCounters(
    tx,
    stopped.map((s) => ({
      workflow_id: s.workflow_id,
      status,
      duration_ms: s.duration_ms,
      estimated_cost: s.estimated_cost,
    })),
  );
  // A stopped sub-run resumes its parent's step (which then fails); stopped runs free concurrency slots.
  await tx.execute(sql`SELECT aiops_resume_parents(${uuids(ids)}::uuid[])`);
  await tx.execute(
    sql`SELECT aiops_admit_queued(${uuids([...new Set(stopped.map((s) => s.workflow_id))])}::uuid[])`,
  );
  await notify(tx, CHANNELS.cancel, ids);
  await notify(tx, CHANNELS.runEvents, ids);
  return ids;
}

/**
 * Waiting steps whose time has come become ready: a delay that is due, an approval past its deadline (its
 * default decision is taken, marked timed out). A run paused only for approvals runs again.
 */
export async function resumeDueWaits(tx: Tx): Promise<number> {
  const resumed = await queryRows<{ run_id: string; kind: string }>(
    tx,
    sql`UPDATE run_steps SET status = 'ready', available_at = now(), updated_at = now(),
          wait = wait || jsonb_build_object('resumed', true) || CASE WHEN wait->>'kind' = 'approval' THEN
            jsonb_build_object('decision', jsonb_build_object('approved', wait->>'defaultDecision' = 'approved',
              'timedOut', true, 'decidedBy', 'system', 'decidedAt', now(), 'comment', 'no decision before the deadline'))
            ELSE '{}'::jsonb END
        WHERE id IN (SELECT id FROM run_steps WHERE status = 'waiting' AND available_at <= now()
                     ORDER BY available_at LIMIT 500 FOR UPDATE SKIP LOCKED)
        RETURNING run_id, wait->>'kind' AS kind`,
  );
  if (!resumed.length) return 0;
  await unpauseApprovedRuns(tx, [
    ...new Set(resumed.filter((r) => r.kind === 'approval').map((r) => r.run_id)),
  ]);
  await notify(tx, CHANNELS.wake);
  await notify(tx, CHANNELS.runEvents, [...new Set(resumed.map((r) => r.run_id))]);
  return resumed.length;
}

/** Runs paused only for approvals that no longer wait for any run again. */
export async function unpauseApprovedRuns(tx: Tx, runIds: string[]): Promise<void> {
  if (!runIds.length) return;
  await tx.execute(sql`UPDATE workflow_executions e SET status = 'running', resumed_at = now(), status_reason = NULL,
      updated_at = now()
    WHERE e.id = ANY(${uuids(runIds)}::uuid[]) AND e.status = 'paused' AND e.status_reason LIKE 'waiting for approval%'
      AND NOT EXISTS (SELECT 1 FROM run_steps s WHERE s.run_id = e.id AND s.status = 'waiting' AND s.wait->>'kind' = 'approval')`);
}

/** On shutdown: gives this worker's unfinished steps back to the queue at once (no lease wait). */
export async function releaseLeases(tx: Tx, workerId: string, stepIds: string[]): Promise<void> {
  if (!stepIds.length) return;
  await tx.execute(sql`UPDATE run_steps SET status = 'ready', attempt = attempt - 1, available_at = now(),
      lease_owner = NULL, lease_expires_at = NULL, updated_at = now()
      WHERE id = ANY(${uuids(stepIds)}::uuid[]) AND lease_owner = ${workerId} AND status = 'running'`);
  await notify(tx, CHANNELS.wake);
}
