import type { SecretBox } from '@aiops/core';
import { agents, type Database, queryRows, triggerFirings } from '@aiops/db';
import { agentWebhookAad, type Logger } from '@aiops/engine';
import { type AddressCategory, signedPost } from '@aiops/providers';
import { eq, sql } from 'drizzle-orm';
import { dueTimesOf } from '../triggers/scheduler.ts';

export { agentWebhookAad };

export interface AgentCallOptions {
  /** First retry after this long; each next one waits twice as long (capped at ten minutes). */
  backoffMs: number;
  /** A scheduled call gives up (firing `failed`) after this many attempts. */
  maxAttempts: number;
  /** How long one call may take. */
  timeoutMs: number;
}

export const DEFAULT_AGENT_CALL_OPTIONS: AgentCallOptions = {
  backoffMs: 5_000,
  maxAttempts: 5,
  timeoutMs: 10_000,
};

export interface AgentCallDeps {
  db: Database;
  secrets: SecretBox;
  log: Logger;
  privateNetworkCategories?: readonly AddressCategory[] | undefined;
  options?: Partial<AgentCallOptions>;
}

interface DueAgent {
  id: string;
  organization_id: string;
}

/**
 * Records the due firings of agents' schedules, exactly once per (agent, due time) whatever the
 * number of processes: the agent row is locked (SKIP LOCKED: another process has it) and its cursor
 * re-read, a firing per due time is inserted (unique per agent and due time) and the cursor advanced in one
 * transaction. A cursor not set yet (new or changed schedule) is set to the next due time. Due times missed
 * while no process ran (older than a minute) are skipped, as a schedule trigger's `skip` policy does.
 * External agents' calls are made by `callDueAgents`; llm and code agents' runs are started by
 * `runDueAgents` (runs.ts).
 */
export async function fireDueAgentSchedules(db: Database, now = new Date()): Promise<number> {
  const due = await db.system((tx) =>
    queryRows<DueAgent>(
      tx,
      sql`SELECT id, organization_id FROM agents
          WHERE schedule IS NOT NULL AND schedule_enabled AND enabled AND deleted_at IS NULL
            AND (schedule_next_fire_at IS NULL OR schedule_next_fire_at <= ${now})
          ORDER BY schedule_next_fire_at NULLS FIRST LIMIT 200`,
    ),
  );
  let fired = 0;
  for (const d of due) {
    fired += await db.withTenant(d.organization_id, async (tx) => {
      const [locked] = await queryRows<{ id: string }>(
        tx,
        sql`SELECT id FROM agents WHERE id = ${d.id} AND schedule IS NOT NULL AND schedule_enabled AND enabled
              AND (schedule_next_fire_at IS NULL OR schedule_next_fire_at <= ${now})
            FOR UPDATE SKIP LOCKED`,
      );
      if (!locked) return 0;
      const [a] = await tx.select().from(agents).where(eq(agents.id, d.id));
      if (!a?.schedule) return 0;
      const spec = {
        cron: a.schedule,
        timezone: a.scheduleTimezone ?? 'UTC',
        nextFireAt: a.scheduleNextFireAt,
        missedFirePolicy: 'skip' as const,
        catchUpLimit: 0,
      };
      let plan: ReturnType<typeof dueTimesOf>;
      try {
        plan = dueTimesOf(spec, now);
      } catch {
        // A cron expression saved before validation existed: the schedule is switched off, not retried.
        await tx.update(agents).set({ scheduleEnabled: false }).where(eq(agents.id, d.id));
        return 0;
      }
      for (const dueAt of plan.fire) {
        await tx
          .insert(triggerFirings)
          .values({
            organizationId: a.organizationId,
            agentId: a.id,
            status: 'starting',
            dueAt,
            nextAttemptAt: sql`now()`,
            // The input the schedule has at its due time is the one its run (or call) gets.
            payload: {
              scheduledAt: dueAt.toISOString(),
              timezone: spec.timezone,
              input: a.scheduleInput ?? {},
            },
          })
          .onConflictDoNothing();
      }
      await tx
        .update(agents)
        .set({
          scheduleNextFireAt: plan.next,
          ...(plan.fire.length ? { scheduleLastFiredAt: plan.fire.at(-1)! } : {}),
        })
        .where(eq(agents.id, d.id));
      return plan.fire.length;
    });
  }
  return fired;
}

interface ClaimedCall {
  id: string;
  organization_id: string;
  agent_id: string;
  attempts: number;
  due_at: Date | string;
  payload: { scheduledAt: string; timezone: string; input?: Record<string, unknown> } | null;
  name: string;
  webhook_url: string | null;
  webhook_secret_encrypted: string | null;
  allow_private: boolean | null;
}

/** The body an external agent receives on its schedule. */
export function scheduledCallBody(
  c: Pick<ClaimedCall, 'id' | 'agent_id' | 'name' | 'attempts' | 'due_at' | 'payload'>,
) {
  return {
    type: 'agent.scheduled',
    firingId: c.id,
    agentId: c.agent_id,
    agentName: c.name,
    scheduledAt: new Date(c.due_at).toISOString(),
    timezone: c.payload?.timezone ?? 'UTC',
    attempt: c.attempts,
    input: c.payload?.input ?? {},
  };
}

/**
 * Makes the due scheduled calls: claims firings with a lease (SKIP LOCKED; a process that dies mid-call
 * loses its lease and another retries), POSTs a Standard Webhooks-signed JSON body to the agent's
 * `webhook_url` through the outbound address policy (`webhook-id` is the firing id, the same on every
 * retry), and records the outcome on the firing: `done` with the response code, or a retry with
 * exponential backoff, or after `maxAttempts` `failed` with the last error.
 */
export async function callDueAgents(deps: AgentCallDeps, limit = 20): Promise<number> {
  const o = { ...DEFAULT_AGENT_CALL_OPTIONS, ...deps.options };
  const claimed = await deps.db.system((tx) =>
    queryRows<ClaimedCall>(
      tx,
      sql`WITH c AS (
            SELECT f.id FROM trigger_firings f JOIN agents a ON a.id = f.agent_id
            WHERE f.agent_id IS NOT NULL AND f.status = 'starting' AND f.next_attempt_at <= now()
              AND a.kind = 'external'
            ORDER BY f.next_attempt_at LIMIT ${limit} FOR UPDATE OF f SKIP LOCKED)
          UPDATE trigger_firings f
            SET next_attempt_at = now() + make_interval(secs => ${(o.timeoutMs + 30_000) / 1000}),
                attempts = f.attempts + 1, updated_at = now()
          FROM c, agents a, organizations g
          WHERE f.id = c.id AND a.id = f.agent_id AND g.id = f.organization_id
          RETURNING f.id, f.organization_id, f.agent_id, f.attempts, f.due_at, f.payload, a.name, a.webhook_url,
            a.webhook_secret_encrypted, (g.settings->>'allowPrivateNetworks')::boolean AS allow_private`,
    ),
  );
  await Promise.all(claimed.map((c) => callOne(deps, o, c)));
  return claimed.length;
}

async function callOne(deps: AgentCallDeps, o: AgentCallOptions, c: ClaimedCall): Promise<void> {
  let code: number | null = null;
  let error: string | null = null;
  let permanent = false;
  if (!c.webhook_url || !c.webhook_secret_encrypted) {
    permanent = true;
    error = 'the agent has no webhook_url (or no signing secret): set its schedule again';
  } else {
    ({ code, error } = await signedPost({
      url: c.webhook_url,
      id: c.id,
      body: JSON.stringify(scheduledCallBody(c)),
      secrets: [deps.secrets.decrypt(c.webhook_secret_encrypted, agentWebhookAad(c.agent_id))],
      allowPrivate: c.allow_private === true,
      privateNetworkCategories: deps.privateNetworkCategories,
      timeoutMs: o.timeoutMs,
      userAgent: 'aiops-studio-agent-schedules/1',
    }));
  }
  const giveUp = permanent || c.attempts >= o.maxAttempts;
  const wait = Math.min(o.backoffMs * 2 ** (c.attempts - 1), 600_000);
  await deps.db.withTenant(c.organization_id, (tx) =>
    tx
      .update(triggerFirings)
      .set(
        error
          ? {
              status: giveUp ? 'failed' : 'starting',
              responseCode: code,
              reason: giveUp ? `gave up after ${c.attempts} attempt(s): ${error}` : error,
              nextAttemptAt: giveUp ? null : new Date(Date.now() + wait),
              updatedAt: new Date(),
            }
          : { status: 'done', responseCode: code, reason: null, nextAttemptAt: null, updatedAt: new Date() },
      )
      .where(eq(triggerFirings.id, c.id)),
  );
  if (error) {
    deps.log.warn(
      { firingId: c.id, agentId: c.agent_id, attempt: c.attempts, error },
      'scheduled agent call failed',
    );
  }
}

/** The earliest due time of any agent's schedule, or a call or run start waiting for its retry. */
export async function earliestAgentDue(db: Database): Promise<Date | null> {
  const [row] = await db.system((tx) =>
    queryRows<{ at: Date | string | null }>(
      tx,
      sql`SELECT least(
            (SELECT min(schedule_next_fire_at) FROM agents
              WHERE schedule IS NOT NULL AND schedule_enabled AND enabled AND deleted_at IS NULL),
            (SELECT min(next_attempt_at) FROM trigger_firings WHERE agent_id IS NOT NULL AND status = 'starting')
          ) AS at`,
    ),
  );
  return row?.at ? new Date(row.at) : null;
}
