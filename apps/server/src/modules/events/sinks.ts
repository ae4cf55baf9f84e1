import { randomBytes, randomUUID } from 'node:crypto';
import type { DeliveryDto, SinkDto } from '@aiops/contracts';
import { badRequest, notFound, type SecretBox } from '@aiops/core';
import { eventDeliveries, eventSinks, type Tx } from '@aiops/db';
import { urlRefusal } from '@aiops/providers';
import { and, desc, eq } from 'drizzle-orm';
import type { FastifyRequest } from 'fastify';
import { authOf } from '../../http/auth.ts';
import { audit, tenant } from '../../http/tenant.ts';
import { requestPolicy } from '../../services/outbound.ts';
import { sinkAad } from './outbox.ts';

type SinkRow = typeof eventSinks.$inferSelect;

function sinkDto(r: SinkRow, secret?: string): SinkDto {
  return {
    id: r.id,
    name: r.name,
    kind: r.kind,
    url: r.url,
    subjectPrefix: r.subjectPrefix,
    eventTypes: r.eventTypes,
    enabled: r.enabled,
    consecutiveFailures: r.consecutiveFailures,
    disabledReason: r.disabledReason,
    secretHint: r.secretHint,
    ...(secret ? { secret } : {}),
    previousSecretExpiresAt:
      r.previousSecretEncrypted && r.previousSecretExpiresAt && r.previousSecretExpiresAt > new Date()
        ? r.previousSecretExpiresAt.toISOString()
        : null,
    createdAt: r.createdAt.toISOString(),
  };
}

export function deliveryDto(d: typeof eventDeliveries.$inferSelect): DeliveryDto {
  return {
    id: d.id,
    sinkId: d.sinkId,
    outboxId: d.outboxId,
    eventType: d.eventType,
    status: d.status as DeliveryDto['status'],
    attempts: d.attempts,
    nextAttemptAt: d.nextAttemptAt.toISOString(),
    responseCode: d.responseCode,
    lastError: d.lastError,
    durationMs: d.durationMs,
    deliveredAt: d.deliveredAt ? d.deliveredAt.toISOString() : null,
    createdAt: d.createdAt.toISOString(),
  };
}

/** A webhook sink's URL must be http(s) and allowed by the organization's outbound address policy. */
async function checkUrl(tx: Tx, request: FastifyRequest, url: string) {
  const why = await urlRefusal(url, await requestPolicy(tx, request));
  if (why) throw badRequest(`url: ${why}`, { issues: [{ path: 'body.url', message: why }] });
}

async function load(tx: Tx, id: string): Promise<SinkRow> {
  const [row] = await tx.select().from(eventSinks).where(eq(eventSinks.id, id));
  if (!row) throw notFound('Event sink', id);
  return row;
}

export function listSinks(request: FastifyRequest) {
  return tenant(request, async (tx) => ({
    data: (await tx.select().from(eventSinks).orderBy(eventSinks.createdAt)).map((r) => sinkDto(r)),
  }));
}

export function createSink(
  request: FastifyRequest,
  secrets: SecretBox,
  body:
    | { kind: 'webhook'; name: string; url: string; eventTypes: string[]; enabled: boolean }
    | { kind: 'nats'; name: string; subjectPrefix: string; eventTypes: string[]; enabled: boolean },
) {
  const auth = authOf(request);
  const id = randomUUID();
  const secret = body.kind === 'webhook' ? newSinkSecret() : null;
  return tenant(request, async (tx) => {
    if (body.kind === 'webhook') await checkUrl(tx, request, body.url);
    const [row] = await tx
      .insert(eventSinks)
      .values({
        id,
        organizationId: auth.organizationId,
        name: body.name,
        kind: body.kind,
        eventTypes: body.eventTypes,
        enabled: body.enabled,
        url: body.kind === 'webhook' ? body.url : null,
        subjectPrefix: body.kind === 'nats' ? body.subjectPrefix : null,
        ...(secret
          ? {
              secretEncrypted: secrets.encrypt(secret, sinkAad(id)),
              secretKeyId: secrets.currentKeyId,
              secretHint: `${secret.slice(0, 6)}…${secret.slice(-4)}`,
            }
          : {}),
        createdBy: auth.userId,
      })
      .returning();
    const dto = sinkDto(row!);
    await audit(tx, request, { entityType: 'event_sink', entityId: id, action: 'created', after: dto });
    return sinkDto(row!, secret ?? undefined);
  });
}

const newSinkSecret = () => `whsec_${randomBytes(24).toString('base64')}`;

/**
 * A new signing secret for a webhook sink (returned once). For `graceSeconds` the replaced secret still
 * signs every delivery beside the new one (`webhook-signature: v1,<new> v1,<old>`, as Standard Webhooks
 * allows), so the receiver can switch to the new secret without refusing deliveries meanwhile.
 */
export function rotateSinkSecret(
  request: FastifyRequest,
  secrets: SecretBox,
  id: string,
  graceSeconds: number,
) {
  const secret = newSinkSecret();
  return tenant(request, async (tx) => {
    const row = await load(tx, id);
    if (row.kind !== 'webhook' || !row.secretEncrypted) {
      throw badRequest('only webhook sinks have a signing secret to rotate');
    }
    const [updated] = await tx
      .update(eventSinks)
      .set({
        secretEncrypted: secrets.encrypt(secret, sinkAad(id)),
        secretKeyId: secrets.currentKeyId,
        secretHint: `${secret.slice(0, 6)}…${secret.slice(-4)}`,
        previousSecretEncrypted: graceSeconds > 0 ? row.secretEncrypted : null,
        previousSecretExpiresAt: graceSeconds > 0 ? new Date(Date.now() + graceSeconds * 1000) : null,
        updatedAt: new Date(),
      })
      .where(eq(eventSinks.id, id))
      .returning();
    await audit(tx, request, {
      entityType: 'event_sink',
      entityId: id,
      action: 'secret_rotated',
      before: sinkDto(row),
      after: sinkDto(updated!),
      metadata: { graceSeconds },
    });
    return sinkDto(updated!, secret);
  });
}

export function updateSink(
  request: FastifyRequest,
  id: string,
  body: {
    name?: string | undefined;
    url?: string | undefined;
    subjectPrefix?: string | undefined;
    eventTypes?: string[] | undefined;
    enabled?: boolean | undefined;
  },
) {
  return tenant(request, async (tx) => {
    const row = await load(tx, id);
    if (body.url !== undefined && row.kind !== 'webhook')
      throw badRequest('url applies to webhook sinks only');
    if (body.subjectPrefix !== undefined && row.kind !== 'nats')
      throw badRequest('subjectPrefix applies to NATS sinks only');
    if (body.url) await checkUrl(tx, request, body.url);
    const set: Partial<typeof eventSinks.$inferInsert> = { updatedAt: new Date() };
    if (body.name !== undefined) set.name = body.name;
    if (body.url !== undefined) set.url = body.url;
    if (body.subjectPrefix !== undefined) set.subjectPrefix = body.subjectPrefix;
    if (body.eventTypes !== undefined) set.eventTypes = body.eventTypes;
    if (body.enabled !== undefined) {
      set.enabled = body.enabled;
      // Turning a sink back on clears what disabled it.
      if (body.enabled) Object.assign(set, { consecutiveFailures: 0, disabledReason: null });
    }
    const [updated] = await tx.update(eventSinks).set(set).where(eq(eventSinks.id, id)).returning();
    const dto = sinkDto(updated!);
    await audit(tx, request, {
      entityType: 'event_sink',
      entityId: id,
      action: 'updated',
      before: sinkDto(row),
      after: dto,
    });
    return dto;
  });
}

export function deleteSink(request: FastifyRequest, id: string) {
  return tenant(request, async (tx) => {
    const row = await load(tx, id);
    await tx.delete(eventSinks).where(eq(eventSinks.id, id));
    await audit(tx, request, {
      entityType: 'event_sink',
      entityId: id,
      action: 'deleted',
      before: sinkDto(row),
    });
    return sinkDto(row);
  });
}

export function listDeliveries(request: FastifyRequest, id: string, limit: number) {
  return tenant(request, async (tx) => {
    await load(tx, id);
    const rows = await tx
      .select()
      .from(eventDeliveries)
      .where(eq(eventDeliveries.sinkId, id))
      .orderBy(desc(eventDeliveries.createdAt), desc(eventDeliveries.id))
      .limit(limit);
    return { data: rows.map(deliveryDto) };
  });
}

/** Manual redelivery: the delivery is due again now, with a fresh attempt budget. */
export function redeliver(request: FastifyRequest, sinkId: string, deliveryId: string) {
  return tenant(request, async (tx) => {
    await load(tx, sinkId);
    const [row] = await tx
      .update(eventDeliveries)
      .set({
        status: 'pending',
        attempts: 0,
        nextAttemptAt: new Date(),
        leaseUntil: null,
        updatedAt: new Date(),
      })
      .where(and(eq(eventDeliveries.id, deliveryId), eq(eventDeliveries.sinkId, sinkId)))
      .returning();
    if (!row) throw notFound('Delivery', deliveryId);
    await audit(tx, request, {
      entityType: 'event_delivery',
      entityId: deliveryId,
      action: 'redelivery_requested',
      after: { sinkId, eventType: row.eventType },
    });
    return deliveryDto(row);
  });
}
