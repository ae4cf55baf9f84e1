import type { Tx } from '@aiops/db';
import { sql } from 'drizzle-orm';
import { CHANNELS } from './types.ts';

/**
 * Run event types. `run.<status>` when the run changes state; `step.<what>` for its steps.
 * Analytics consumers read them as seed 003's workflow_started/finished, agent_task_completed/failed.
 */
export type RunEventType =
  | 'run.queued'
  | 'run.pending'
  | 'run.running'
  | 'run.paused'
  | 'run.completed'
  | 'run.failed'
  | 'run.cancelled'
  | 'run.timeout'
  | 'step.started'
  | 'step.completed'
  | 'step.failed'
  | 'step.retrying'
  | 'step.skipped'
  | 'step.cancelled'
  | 'step.lost';

export interface NewEvent {
  runId: string;
  organizationId: string;
  type: RunEventType;
  nodeId?: string;
  data?: Record<string, unknown>;
}

/** Inserts events in one statement and announces their runs with NOTIFY (delivered at commit). */
export async function insertEvents(tx: Tx, events: NewEvent[]): Promise<void> {
  if (!events.length) return;
  const rows = events.map((e) => ({
    run_id: e.runId,
    organization_id: e.organizationId,
    type: e.type,
    node_id: e.nodeId ?? null,
    data: e.data ?? {},
  }));
  await tx.execute(sql`
    INSERT INTO run_events (run_id, organization_id, type, node_id, data)
    SELECT run_id, organization_id, type, node_id, data
    FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
      AS v(run_id uuid, organization_id uuid, type text, node_id text, data jsonb)`);
  await notify(tx, CHANNELS.runEvents, [...new Set(events.map((e) => e.runId))]);
}

/** NOTIFY with a JSON array payload, split so each stays under PostgreSQL's 8000-byte limit. */
export async function notify(tx: Tx, channel: string, ids: string[] = []): Promise<void> {
  if (!ids.length) {
    await tx.execute(sql`SELECT pg_notify(${channel}, '')`);
    return;
  }
  for (let i = 0; i < ids.length; i += 150) {
    await tx.execute(sql`SELECT pg_notify(${channel}, ${JSON.stringify(ids.slice(i, i + 150))})`);
  }
}
