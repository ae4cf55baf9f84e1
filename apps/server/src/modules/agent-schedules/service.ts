import { badRequest, conflict, notFound, type SecretBox } from '@aiops/core';
import { agents, type Tx, triggerFirings } from '@aiops/db';
import * as engine from '@aiops/engine';
import { urlRefusal } from '@aiops/providers';
import { and, desc, eq, isNull } from 'drizzle-orm';
import type { FastifyRequest } from 'fastify';
import { authOf } from '../../http/auth.ts';
import { audit, tenant } from '../../http/tenant.ts';
import { requestPolicy } from '../../services/outbound.ts';
import { agentHarness } from '../experiments/agent-harness.ts';
import { checkSchedule, nextFireTimes } from '../triggers/cron.ts';
import type { AgentScheduleDto } from './schemas.ts';

type AgentRow = typeof agents.$inferSelect;

const iso = (d: Date | null) => (d ? d.toISOString() : null);

async function load(tx: Tx, id: string): Promise<AgentRow> {
  const [row] = await tx
    .select()
    .from(agents)
    .where(and(eq(agents.id, id), isNull(agents.deletedAt)));
  if (!row) throw notFound('agent', id);
  return row;
}

async function dto(tx: Tx, a: AgentRow, secret?: string): Promise<AgentScheduleDto> {
  const calls = await tx
    .select()
    .from(triggerFirings)
    .where(eq(triggerFirings.agentId, a.id))
    .orderBy(desc(triggerFirings.createdAt), desc(triggerFirings.id))
    .limit(20);
  const timezone = a.scheduleTimezone ?? 'UTC';
  let next: Date[] = [];
  if (a.schedule && a.scheduleEnabled) {
    try {
      next = nextFireTimes(a.schedule, timezone, new Date(), 5);
    } catch {
      next = [];
    }
  }
  return {
    agentId: a.id,
    kind: a.kind,
    cron: a.schedule,
    timezone,
    enabled: a.scheduleEnabled,
    webhookUrl: a.webhookUrl,
    secretHint: a.webhookSecretHint,
    ...(secret ? { secret } : {}),
    input: a.scheduleInput ?? {},
    nextFireTimes: next.map((d) => d.toISOString()),
    lastFiredAt: iso(a.scheduleLastFiredAt),
    calls: calls.map((f) => ({
      id: f.id,
      dueAt: iso(f.dueAt),
      status: f.status,
      attempts: f.attempts,
      responseCode: f.responseCode,
      reason: f.reason,
      nextAttemptAt: iso(f.nextAttemptAt),
      runId: f.runId,
      createdAt: f.createdAt.toISOString(),
      updatedAt: f.updatedAt.toISOString(),
    })),
  };
}

/** What the audit log keeps of a schedule (no secret, no call log). */
const audited = (a: AgentRow) => ({
  cron: a.schedule,
  timezone: a.scheduleTimezone,
  enabled: a.scheduleEnabled,
  webhookUrl: a.webhookUrl,
  secretHint: a.webhookSecretHint,
  input: a.scheduleInput,
});

const newSecret = engine.newAgentWebhookSecret;

export function getSchedule(request: FastifyRequest, id: string) {
  return tenant(request, async (tx) => dto(tx, await load(tx, id)));
}

/**
 * Sets an agent's schedule (cron in a time zone, on or off, the run input). An external agent's schedule
 * calls its webhook_url (sent here or already set; its signing secret is made the first time and returned
 * once). An llm or code agent's schedule starts a run of the agent's harness workflow (the one agent
 * experiments use, made or brought up to the agent's current version here). The cursor is reset: the next
 * due time counts from now.
 */
export function putSchedule(
  request: FastifyRequest,
  secrets: SecretBox,
  id: string,
  body: {
    cron: string;
    timezone: string;
    enabled: boolean;
    webhookUrl?: string | undefined;
    input?: Record<string, unknown> | undefined;
  },
) {
  checkSchedule(body.cron, body.timezone, 'body');
  return tenant(request, async (tx) => {
    const before = await load(tx, id);
    let target: Partial<AgentRow> = {};
    let made: ReturnType<typeof newSecret> | undefined;
    if (before.kind === 'external') {
      const url = body.webhookUrl ?? before.webhookUrl;
      if (!url) {
        throw badRequest('webhookUrl: the agent has no webhook_url; send the URL its schedule calls', {
          issues: [{ path: 'body.webhookUrl', message: 'required: the agent has none' }],
        });
      }
      const why = await urlRefusal(url, await requestPolicy(tx, request));
      if (why)
        throw badRequest(`webhookUrl: ${why}`, { issues: [{ path: 'body.webhookUrl', message: why }] });
      made = before.webhookSecretEncrypted ? undefined : newSecret(secrets, id);
      target = { webhookUrl: url, ...(made?.columns ?? {}) };
    } else {
      if (body.webhookUrl !== undefined) {
        const message = `a ${before.kind} agent's schedule starts a run of the agent; only external agents are called at a URL`;
        throw badRequest(`webhookUrl: ${message}`, { issues: [{ path: 'body.webhookUrl', message }] });
      }
      const auth = authOf(request);
      const h = await agentHarness(tx, auth.organizationId, auth.userId, id, undefined);
      if (h.saved)
        await audit(tx, request, {
          entityType: 'workflow',
          entityId: h.workflowId,
          action: h.saved === 'workflow' ? 'created' : 'candidate_saved',
          after: { harnessOf: { agentId: id, agentVersion: h.agentVersion }, version: h.workflowVersion },
        });
    }
    const [after] = await tx
      .update(agents)
      .set({
        schedule: body.cron,
        scheduleTimezone: body.timezone,
        scheduleEnabled: body.enabled,
        scheduleNextFireAt: nextFireTimes(body.cron, body.timezone, new Date(), 1)[0] ?? null,
        scheduleInput: body.input ?? before.scheduleInput ?? {},
        ...target,
        updatedAt: new Date(),
      })
      .where(eq(agents.id, id))
      .returning();
    await audit(tx, request, {
      entityType: 'agent_schedule',
      entityId: id,
      action: before.schedule ? 'updated' : 'created',
      before: audited(before),
      after: audited(after!),
    });
    return dto(tx, after!, made?.secret);
  });
}

/** Removes the schedule (the call log stays). */
export function deleteSchedule(request: FastifyRequest, id: string) {
  return tenant(request, async (tx) => {
    const before = await load(tx, id);
    if (!before.schedule) throw notFound('agent schedule', id);
    const [after] = await tx
      .update(agents)
      .set({ schedule: null, scheduleNextFireAt: null, updatedAt: new Date() })
      .where(eq(agents.id, id))
      .returning();
    await audit(tx, request, {
      entityType: 'agent_schedule',
      entityId: id,
      action: 'deleted',
      before: audited(before),
      after: audited(after!),
    });
    return dto(tx, after!);
  });
}

/** A new signing secret for the scheduled calls (returned once); the old one stops signing at once. */
export function rotateScheduleSecret(request: FastifyRequest, secrets: SecretBox, id: string) {
  return tenant(request, async (tx) => {
    const before = await load(tx, id);
    if (before.kind !== 'external') {
      throw conflict(`Agent ${id} is of kind "${before.kind}": only external agents have a signing secret`);
    }
    const made = newSecret(secrets, id);
    const [after] = await tx
      .update(agents)
      .set({ ...made.columns, updatedAt: new Date() })
      .where(eq(agents.id, id))
      .returning();
    await audit(tx, request, {
      entityType: 'agent_schedule',
      entityId: id,
      action: 'secret_rotated',
      before: audited(before),
      after: audited(after!),
    });
    return dto(tx, after!, made.secret);
  });
}
