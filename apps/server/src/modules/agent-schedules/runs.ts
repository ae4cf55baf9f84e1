import { isAppError } from '@aiops/core';
import { auditLogs, type Database, queryRows, triggerFirings } from '@aiops/db';
import type { Logger, Runs } from '@aiops/engine';
import { eq, sql } from 'drizzle-orm';
import { assertFeature } from '../config/gate.ts';
import { runtimeConfigOf } from '../config/runtime.ts';
import { agentHarness } from '../experiments/agent-harness.ts';
import { type AgentCallOptions, DEFAULT_AGENT_CALL_OPTIONS } from './calls.ts';

export interface AgentRunDeps {
  db: Database;
  runs: Runs;
  log: Logger;
  options?: Partial<AgentCallOptions>;
}

interface ClaimedRun {
  id: string;
  organization_id: string;
  agent_id: string;
  attempts: number;
  due_at: Date | string;
  payload: { scheduledAt?: string; timezone?: string; input?: Record<string, unknown> } | null;
}

/** How long a claimed firing is left to its process before another one may start it (same run key). */
const LEASE_SECONDS = 60;

/** The idempotency key of the run a firing of an agent's schedule starts (at most one run per firing). */
export const agentFiringRunKey = (firingId: string) => `agent-firing:${firingId}`;

/**
 * Starts the runs of due firings of llm and code agents' schedules: claims firings with a lease (SKIP
 * LOCKED; a process that dies mid-start loses its lease and another starts the same run key, so at most
 * one run per firing), then starts a run of the agent's harness workflow (the one-step workflow agent
 * experiments run, at the agent's current version) with the input the schedule had at its due time,
 * `triggered_by = schedule`, and `metadata.trigger` naming the agent and the firing. The run is an ordinary
 * run: the organization's quota, the workflows feature flag and the agent's cost limits apply. A refusal
 * (quota used up, feature off, agent gone) fails the firing with the reason; a passing one (concurrency
 * limit, database) is retried with backoff until `maxAttempts`. The trigger loop marks the firing `done`
 * once its run ends.
 */
export async function runDueAgents(deps: AgentRunDeps, limit = 20): Promise<number> {
  const o = { ...DEFAULT_AGENT_CALL_OPTIONS, ...deps.options };
  const claimed = await deps.db.system((tx) =>
    queryRows<ClaimedRun>(
      tx,
      sql`WITH c AS (
            SELECT f.id FROM trigger_firings f JOIN agents a ON a.id = f.agent_id
            WHERE f.agent_id IS NOT NULL AND f.status = 'starting' AND f.next_attempt_at <= now()
              AND a.kind <> 'external'
            ORDER BY f.next_attempt_at LIMIT ${limit} FOR UPDATE OF f SKIP LOCKED)
          UPDATE trigger_firings f
            SET next_attempt_at = now() + make_interval(secs => ${LEASE_SECONDS}),
                attempts = f.attempts + 1, updated_at = now()
          FROM c WHERE f.id = c.id
          RETURNING f.id, f.organization_id, f.agent_id, f.attempts, f.due_at, f.payload`,
    ),
  );
  for (const c of claimed) await startOne(deps, o, c);
  return claimed.length;
}

async function startOne(deps: AgentRunDeps, o: AgentCallOptions, c: ClaimedRun): Promise<void> {
  const org = c.organization_id;
  const dueAt = new Date(c.due_at).toISOString();
  try {
    // An organization whose workflows are turned off starts nothing from a schedule either.
    assertFeature(runtimeConfigOf(deps.db), 'feature/workflows', org);
    const h = await deps.db.withTenant(org, async (tx) => {
      const h = await agentHarness(tx, org, null, c.agent_id, undefined);
      if (h.saved) {
        // The agent changed since its schedule was set: its harness gets the new version (audited).
        await tx.insert(auditLogs).values({
          organizationId: org,
          entityType: 'workflow',
          entityId: h.workflowId,
          action: h.saved === 'workflow' ? 'created' : 'candidate_saved',
          changes: {
            after: {
              harnessOf: { agentId: c.agent_id, agentVersion: h.agentVersion },
              version: h.workflowVersion,
            },
          },
          metadata: { by: 'agent_schedule', firingId: c.id },
        });
      }
      return h;
    });
    const started = await deps.runs.start({
      organizationId: org,
      workflowId: h.workflowId,
      version: h.workflowVersion,
      input: c.payload?.input ?? {},
      triggeredBy: 'schedule',
      // As a schedule trigger's run: the due time it fired for.
      externalTriggerId: dueAt,
      idempotencyKey: agentFiringRunKey(c.id),
      metadata: {
        trigger: {
          type: 'agent_schedule',
          agentId: c.agent_id,
          agentVersion: h.agentVersion,
          firingId: c.id,
          dueAt,
        },
      },
    });
    await deps.db.withTenant(org, (tx) =>
      tx
        .update(triggerFirings)
        .set({
          status: 'started',
          runId: started.id,
          workflowId: h.workflowId,
          reason: null,
          nextAttemptAt: null,
          updatedAt: new Date(),
        })
        .where(eq(triggerFirings.id, c.id)),
    );
  } catch (e) {
    const permanent = isAppError(e) && e.status < 500 && !e.retryable;
    const giveUp = permanent || c.attempts >= o.maxAttempts;
    const error = isAppError(e) ? `${e.code}: ${e.message}` : e instanceof Error ? e.message : String(e);
    const wait = Math.min(o.backoffMs * 2 ** (c.attempts - 1), 600_000);
    await deps.db.withTenant(org, (tx) =>
      tx
        .update(triggerFirings)
        .set({
          status: giveUp ? 'failed' : 'starting',
          reason: (giveUp ? `gave up after ${c.attempts} attempt(s): ${error}` : error).slice(0, 2000),
          nextAttemptAt: giveUp ? null : new Date(Date.now() + wait),
          updatedAt: new Date(),
        })
        .where(eq(triggerFirings.id, c.id)),
    );
    deps.log.warn(
      { firingId: c.id, agentId: c.agent_id, attempt: c.attempts, error },
      'scheduled agent run did not start',
    );
  }
}
