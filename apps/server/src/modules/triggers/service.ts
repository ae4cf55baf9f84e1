import { randomBytes, randomUUID } from 'node:crypto';
import type { CreateTriggerBody, UpdateTriggerBody } from '@aiops/contracts';
import {
  badRequest,
  ConditionError,
  collectTemplates,
  compileCondition,
  notFound,
  parseTemplate,
  type SecretBox,
  TemplateError,
} from '@aiops/core';
import { type Tx, triggerFirings, workflows, workflowTriggers } from '@aiops/db';
import { and, desc, eq, isNull } from 'drizzle-orm';
import type { FastifyRequest } from 'fastify';
import { authOf } from '../../http/auth.ts';
import { audit, tenant } from '../../http/tenant.ts';
import { checkSchedule, nextFireTime } from './cron.ts';
import { firingDto, triggerDto } from './dto.ts';
import type { TriggerRow } from './firing.ts';
import { hookCacheOf } from './hook-cache.ts';

/** A change of a trigger in this process drops the hook cache at once (other processes: by NOTIFY). */
async function dropHooksAfter<T>(request: FastifyRequest, fn: (tx: Tx) => Promise<T>): Promise<T> {
  const out = await tenant(request, fn);
  hookCacheOf(request.server.db).clear();
  return out;
}

export const triggerAad = (id: string) => `trigger:${id}`;

/** A new secret: Standard Webhooks' `whsec_<base64 of 24 random bytes>`, or an opaque bearer token. */
export function newSecret(auth: string): string | null {
  if (auth === 'standard') return `whsec_${randomBytes(24).toString('base64')}`;
  if (auth === 'bearer') return `aiops_hook_${randomBytes(32).toString('base64url')}`;
  return null;
}

const hint = (secret: string) => `${secret.slice(0, 6)}…${secret.slice(-4)}`;

function checkMapping(mapping: unknown) {
  if (mapping === null || mapping === undefined) return;
  for (const { path, template } of collectTemplates(mapping)) {
    try {
      const parts = parseTemplate(template);
      const bad = parts.find((p) => p.path && p.path[0] !== 'input');
      if (bad) throw new TemplateError(`"${template}": a trigger's input mapping reads only {{input.…}}`);
    } catch (e) {
      if (!(e instanceof TemplateError)) throw e;
      throw badRequest(`inputMapping${path}: ${e.message}`, {
        issues: [{ path: `body.inputMapping${path}`, message: e.message }],
      });
    }
  }
}

function checkFilter(filter: string | null | undefined) {
  if (!filter) return;
  try {
    compileCondition(filter);
  } catch (e) {
    if (!(e instanceof ConditionError)) throw e;
    throw badRequest(`event.filter is not a valid CEL condition: ${e.message}`, {
      issues: [{ path: 'body.event.filter', message: e.message }],
    });
  }
}

async function loadTrigger(tx: Parameters<Parameters<typeof tenant>[1]>[0], id: string): Promise<TriggerRow> {
  const [row] = await tx.select().from(workflowTriggers).where(eq(workflowTriggers.id, id));
  if (!row) throw notFound('Trigger', id);
  return row;
}

export function listTriggers(request: FastifyRequest, workflowId: string) {
  return tenant(request, async (tx) => {
    const [wf] = await tx
      .select({ id: workflows.id })
      .from(workflows)
      .where(and(eq(workflows.id, workflowId), isNull(workflows.deletedAt)));
    if (!wf) throw notFound('Workflow', workflowId);
    const rows = await tx
      .select()
      .from(workflowTriggers)
      .where(eq(workflowTriggers.workflowId, workflowId))
      .orderBy(workflowTriggers.createdAt, workflowTriggers.id);
    return { data: rows.map((r) => triggerDto(r)) };
  });
}

export function createTrigger(
  request: FastifyRequest,
  secrets: SecretBox,
  workflowId: string,
  body: CreateTriggerBody,
) {
  const auth = authOf(request);
  checkMapping(body.inputMapping);
  const id = randomUUID();
  const now = new Date();
  const values: typeof workflowTriggers.$inferInsert = {
    id,
    organizationId: auth.organizationId,
    workflowId,
    name: body.name,
    type: body.type,
    enabled: body.enabled ?? true,
    maxConcurrentExecutions: body.maxConcurrentExecutions === undefined ? 1 : body.maxConcurrentExecutions,
    overflow: body.overflow ?? 'queue',
    inputMapping: body.inputMapping ?? null,
    createdBy: auth.userId,
  };
  let secret: string | null = null;
  if (body.type === 'schedule') {
    const s = body.schedule;
    checkSchedule(s.cron, s.timezone);
    Object.assign(values, {
      scheduleCron: s.cron,
      timezone: s.timezone,
      missedFirePolicy: s.missedFirePolicy,
      catchUpLimit: s.catchUpLimit,
      nextFireAt: nextFireTime(s.cron, s.timezone, now),
    });
  } else if (body.type === 'webhook') {
    const w = body.webhook;
    secret = newSecret(w.auth);
    Object.assign(values, {
      hookId: randomBytes(24).toString('base64url'),
      webhookAuth: w.auth,
      webhookMode: w.mode,
      syncTimeoutMs: w.syncTimeoutMs,
      rateLimitPerMinute: w.rateLimitPerMinute,
      ...(secret
        ? {
            secretEncrypted: secrets.encrypt(secret, triggerAad(id)),
            secretKeyId: secrets.currentKeyId,
            secretHint: hint(secret),
          }
        : {}),
    });
  } else {
    checkFilter(body.event.filter);
    Object.assign(values, {
      eventType: body.event.type,
      eventSource: body.event.source ?? null,
      eventFilter: body.event.filter ?? null,
    });
  }
  return tenant(request, async (tx) => {
    const [wf] = await tx
      .select({ id: workflows.id })
      .from(workflows)
      .where(and(eq(workflows.id, workflowId), isNull(workflows.deletedAt)));
    if (!wf) throw notFound('Workflow', workflowId);
    const [row] = await tx.insert(workflowTriggers).values(values).returning();
    const dto = triggerDto(row!);
    await audit(tx, request, { entityType: 'trigger', entityId: id, action: 'created', after: dto });
    return triggerDto(row!, secret ?? undefined);
  });
}

export function getTrigger(request: FastifyRequest, id: string) {
  return tenant(request, async (tx) => triggerDto(await loadTrigger(tx, id)));
}

export function updateTrigger(request: FastifyRequest, id: string, body: UpdateTriggerBody) {
  if (body.inputMapping !== undefined) checkMapping(body.inputMapping);
  return dropHooksAfter(request, async (tx) => {
    const row = await loadTrigger(tx, id);
    const before = triggerDto(row);
    const set: Partial<typeof workflowTriggers.$inferInsert> = { updatedAt: new Date() };
    if (body.name !== undefined) set.name = body.name;
    if (body.enabled !== undefined) set.enabled = body.enabled;
    if (body.maxConcurrentExecutions !== undefined)
      set.maxConcurrentExecutions = body.maxConcurrentExecutions;
    if (body.overflow !== undefined) set.overflow = body.overflow;
    if (body.inputMapping !== undefined) set.inputMapping = body.inputMapping;
    const wrongKind = (key: string) =>
      badRequest(`this is a ${row.type} trigger; "${key}" does not apply`, {
        issues: [{ path: `body.${key}`, message: `not a ${key} trigger` }],
      });
    if (body.schedule) {
      if (row.type !== 'schedule') throw wrongKind('schedule');
      const cron = body.schedule.cron ?? row.scheduleCron!;
      const timezone = body.schedule.timezone ?? row.timezone ?? 'UTC';
      checkSchedule(cron, timezone);
      set.scheduleCron = cron;
      set.timezone = timezone;
      if (body.schedule.missedFirePolicy) set.missedFirePolicy = body.schedule.missedFirePolicy;
      if (body.schedule.catchUpLimit) set.catchUpLimit = body.schedule.catchUpLimit;
      if (cron !== row.scheduleCron || timezone !== row.timezone) {
        set.nextFireAt = nextFireTime(cron, timezone, new Date());
      }
    }
    if (body.webhook) {
      if (row.type !== 'webhook') throw wrongKind('webhook');
      if (body.webhook.auth && body.webhook.auth !== row.webhookAuth) {
        throw badRequest('webhook.auth cannot change; create a new webhook trigger instead', {
          issues: [{ path: 'body.webhook.auth', message: 'cannot change' }],
        });
      }
      if (body.webhook.mode) set.webhookMode = body.webhook.mode;
      if (body.webhook.syncTimeoutMs) set.syncTimeoutMs = body.webhook.syncTimeoutMs;
      if (body.webhook.rateLimitPerMinute !== undefined)
        set.rateLimitPerMinute = body.webhook.rateLimitPerMinute;
    }
    if (body.event) {
      if (row.type !== 'event') throw wrongKind('event');
      if (body.event.filter !== undefined) checkFilter(body.event.filter);
      if (body.event.type) set.eventType = body.event.type;
      if (body.event.source !== undefined) set.eventSource = body.event.source;
      if (body.event.filter !== undefined) set.eventFilter = body.event.filter;
    }
    // Re-enabling a schedule starts from now (what was missed while disabled is not caught up).
    if (body.enabled === true && !row.enabled && row.type === 'schedule' && !set.nextFireAt) {
      set.nextFireAt = nextFireTime(
        set.scheduleCron ?? row.scheduleCron!,
        set.timezone ?? row.timezone ?? 'UTC',
        new Date(),
      );
    }
    const [updated] = await tx
      .update(workflowTriggers)
      .set(set)
      .where(eq(workflowTriggers.id, id))
      .returning();
    const dto = triggerDto(updated!);
    await audit(tx, request, { entityType: 'trigger', entityId: id, action: 'updated', before, after: dto });
    return dto;
  });
}

export function rotateSecret(request: FastifyRequest, secrets: SecretBox, id: string) {
  return dropHooksAfter(request, async (tx) => {
    const row = await loadTrigger(tx, id);
    const secret = row.type === 'webhook' ? newSecret(row.webhookAuth ?? 'none') : null;
    if (!secret) {
      throw badRequest('only webhook triggers with auth "standard" or "bearer" have a secret to rotate');
    }
    const [updated] = await tx
      .update(workflowTriggers)
      .set({
        secretEncrypted: secrets.encrypt(secret, triggerAad(id)),
        secretKeyId: secrets.currentKeyId,
        secretHint: hint(secret),
        updatedAt: new Date(),
      })
      .where(eq(workflowTriggers.id, id))
      .returning();
    await audit(tx, request, {
      entityType: 'trigger',
      entityId: id,
      action: 'secret_rotated',
      before: { secretHint: row.secretHint },
      after: { secretHint: updated!.secretHint },
    });
    return triggerDto(updated!, secret);
  });
}

export function deleteTrigger(request: FastifyRequest, id: string) {
  return dropHooksAfter(request, async (tx) => {
    const row = await loadTrigger(tx, id);
    const dto = triggerDto(row);
    await tx.delete(workflowTriggers).where(eq(workflowTriggers.id, id));
    await audit(tx, request, { entityType: 'trigger', entityId: id, action: 'deleted', before: dto });
    return dto;
  });
}

export function listFirings(request: FastifyRequest, id: string, limit: number) {
  return tenant(request, async (tx) => {
    await loadTrigger(tx, id);
    const rows = await tx
      .select()
      .from(triggerFirings)
      .where(eq(triggerFirings.triggerId, id))
      .orderBy(desc(triggerFirings.createdAt), desc(triggerFirings.id))
      .limit(limit);
    return { data: rows.map(firingDto) };
  });
}
