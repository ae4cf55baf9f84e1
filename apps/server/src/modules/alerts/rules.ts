import { randomBytes, randomUUID } from 'node:crypto';
import { badRequest, notFound, type SecretBox } from '@aiops/core';
import { agents, alertRules, type Tx, workflows } from '@aiops/db';
import { urlRefusal } from '@aiops/providers';
import { and, desc, eq } from 'drizzle-orm';
import type { FastifyRequest } from 'fastify';
import { authOf } from '../../http/auth.ts';
import { audit, tenant } from '../../http/tenant.ts';
import { requestPolicy } from '../../services/outbound.ts';
import { ruleAad, ruleSecretAad } from './notify.ts';
import type { ConditionInput, RuleBody, RuleDto, RulePatch } from './schemas.ts';

type RuleRow = typeof alertRules.$inferSelect;

export function toRule(r: RuleRow, webhookSecret?: string): RuleDto {
  return {
    id: r.id,
    name: r.name,
    subjectType: r.subjectType,
    agentId: r.agentId,
    workflowId: r.workflowId,
    // Stored as validated by conditionSchema on the way in; the response schema checks it again on the way
    // out (and fills `evaluator: null` on an eval_score rule stored before that field).
    condition: r.condition as RuleDto['condition'],
    severity: r.severity,
    cooldownMinutes: r.cooldownMinutes,
    channels: {
      email: r.channels.email ?? [],
      slack: r.slackWebhookEncrypted !== null,
      webhook: r.webhookUrlEncrypted !== null,
      events: r.channels.events ?? true,
    },
    enabled: r.enabled,
    createdAt: r.createdAt.toISOString(),
    updatedAt: r.updatedAt.toISOString(),
    ...(webhookSecret ? { webhookSecret } : {}),
  };
}

const refuse = (path: string, message: string) =>
  badRequest(`${path}: ${message}`, { issues: [{ path, message }] });

/** The subject and condition must fit together, and a named agent or workflow must be the caller's. */
export async function checkSubject(
  tx: Tx,
  s: { subjectType: string; agentId: string | null; workflowId: string | null; condition: ConditionInput },
): Promise<void> {
  if (s.subjectType !== 'agent' && s.agentId) throw refuse('body.agentId', 'only for subjectType agent');
  if (s.subjectType !== 'workflow' && s.workflowId)
    throw refuse('body.workflowId', 'only for subjectType workflow');
  if (s.condition.kind === 'agent_offline' && s.subjectType !== 'agent')
    throw refuse('body.condition.kind', 'agent_offline (heartbeat missing) applies to agents only');
  if (s.condition.kind === 'budget' && s.subjectType !== 'organization')
    throw refuse(
      'body.condition.kind',
      "budget applies to the organization (its monthly budget, settings.monthlyBudgetUsd): set subjectType to 'organization'",
    );
  if (s.condition.kind === 'consecutive_failures' && s.subjectType === 'organization')
    throw refuse('body.condition.kind', 'consecutive_failures applies to an agent or a workflow');
  if (s.agentId) {
    const [a] = await tx
      .select({ id: agents.id, kind: agents.kind })
      .from(agents)
      .where(eq(agents.id, s.agentId));
    if (!a) throw refuse('body.agentId', 'no such agent in this organization');
    if (s.condition.kind === 'agent_offline' && a.kind !== 'external')
      throw refuse(
        'body.condition.kind',
        `agent_offline (heartbeat missing) applies to external agents only: this agent is a ${a.kind} agent`,
      );
  }
  if (s.workflowId) {
    const [w] = await tx.select({ id: workflows.id }).from(workflows).where(eq(workflows.id, s.workflowId));
    if (!w) throw refuse('body.workflowId', 'no such workflow in this organization');
  }
}

async function checkUrl(tx: Tx, request: FastifyRequest, path: string, url: string) {
  const why = await urlRefusal(url, await requestPolicy(tx, request));
  if (why) throw refuse(path, why);
}

const newSecret = () => `whsec_${randomBytes(24).toString('base64')}`;

export function listRules(request: FastifyRequest) {
  return tenant(request, async (tx) => ({
    data: (await tx.select().from(alertRules).orderBy(desc(alertRules.createdAt)).limit(500)).map((r) =>
      toRule(r),
    ),
  }));
}

export function createRule(request: FastifyRequest, secrets: SecretBox, body: RuleBody) {
  const auth = authOf(request);
  return tenant(request, async (tx) => {
    await checkSubject(tx, body);
    const { slack, webhook, ...channels } = body.channels;
    if (slack) await checkUrl(tx, request, 'body.channels.slack', slack);
    if (webhook) await checkUrl(tx, request, 'body.channels.webhook', webhook);
    const id = randomUUID();
    const secret = webhook ? newSecret() : undefined;
    const [row] = await tx
      .insert(alertRules)
      .values({
        ...body,
        id,
        channels,
        slackWebhookEncrypted: slack ? secrets.encrypt(slack, ruleAad(id)) : null,
        webhookUrlEncrypted: webhook ? secrets.encrypt(webhook, ruleAad(id)) : null,
        webhookSecretEncrypted: secret ? secrets.encrypt(secret, ruleSecretAad(id)) : null,
        organizationId: auth.organizationId,
        createdBy: auth.userId,
      })
      .returning();
    const dto = toRule(row!);
    await audit(tx, request, { entityType: 'alert_rule', entityId: id, action: 'created', after: dto });
    return toRule(row!, secret);
  });
}

async function load(tx: Tx, id: string): Promise<RuleRow> {
  const [row] = await tx.select().from(alertRules).where(eq(alertRules.id, id));
  if (!row) throw notFound('alert rule', id);
  return row;
}

/** PATCH: merges the given fields; channel URLs are replaced when given, removed when null. */
export function updateRule(request: FastifyRequest, secrets: SecretBox, id: string, body: RulePatch) {
  return tenant(request, async (tx) => {
    const before = await load(tx, id);
    const merged = {
      subjectType: body.subjectType ?? before.subjectType,
      agentId: body.agentId !== undefined ? body.agentId : before.agentId,
      workflowId: body.workflowId !== undefined ? body.workflowId : before.workflowId,
      condition: (body.condition ?? before.condition) as ConditionInput,
    };
    if (body.subjectType && body.subjectType !== before.subjectType) {
      if (body.agentId === undefined && body.subjectType !== 'agent') merged.agentId = null;
      if (body.workflowId === undefined && body.subjectType !== 'workflow') merged.workflowId = null;
    }
    await checkSubject(tx, merged);
    const set: Partial<typeof alertRules.$inferInsert> = { ...merged, updatedAt: new Date() };
    if (body.name !== undefined) set.name = body.name;
    if (body.severity !== undefined) set.severity = body.severity;
    if (body.cooldownMinutes !== undefined) set.cooldownMinutes = body.cooldownMinutes;
    if (body.enabled !== undefined) set.enabled = body.enabled;
    let secret: string | undefined;
    const ch = body.channels;
    if (ch) {
      set.channels = {
        email: ch.email ?? before.channels.email ?? [],
        events: ch.events ?? before.channels.events ?? true,
      };
      if (ch.slack) await checkUrl(tx, request, 'body.channels.slack', ch.slack);
      if (ch.webhook) await checkUrl(tx, request, 'body.channels.webhook', ch.webhook);
      if (ch.slack !== undefined)
        set.slackWebhookEncrypted = ch.slack ? secrets.encrypt(ch.slack, ruleAad(id)) : null;
      if (ch.webhook !== undefined) {
        set.webhookUrlEncrypted = ch.webhook ? secrets.encrypt(ch.webhook, ruleAad(id)) : null;
        if (!ch.webhook) set.webhookSecretEncrypted = null;
        else if (!before.webhookSecretEncrypted) {
          secret = newSecret();
          set.webhookSecretEncrypted = secrets.encrypt(secret, ruleSecretAad(id));
        }
      }
    }
    const [row] = await tx
      .update(alertRules)
      .set(set)
      .where(and(eq(alertRules.id, id)))
      .returning();
    const dto = toRule(row!);
    await audit(tx, request, {
      entityType: 'alert_rule',
      entityId: id,
      action: 'updated',
      before: toRule(before),
      after: dto,
    });
    return toRule(row!, secret);
  });
}

/** DELETE: the rule and its alert history go. */
export function deleteRule(request: FastifyRequest, id: string) {
  return tenant(request, async (tx) => {
    const before = await load(tx, id);
    await tx.delete(alertRules).where(eq(alertRules.id, id));
    await audit(tx, request, {
      entityType: 'alert_rule',
      entityId: id,
      action: 'deleted',
      before: toRule(before),
    });
  });
}
