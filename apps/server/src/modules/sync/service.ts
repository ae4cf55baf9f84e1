import { randomBytes, randomUUID } from 'node:crypto';
import type { SyncDeliveryDto, SyncTargetDto } from '@aiops/contracts';
import { badRequest, notFound, type SecretBox } from '@aiops/core';
import { syncDeliveries, syncTargets, type Tx } from '@aiops/db';
import { signedPost, urlRefusal } from '@aiops/providers';
import { desc, eq, sql } from 'drizzle-orm';
import type { FastifyRequest } from 'fastify';
import { authOf } from '../../http/auth.ts';
import { audit, tenant } from '../../http/tenant.ts';
import { allowsPrivateNetworks, requestPolicy } from '../../services/outbound.ts';
import { checkSchedule } from '../triggers/cron.ts';
import { syncKeyAad, syncSecretAad } from './deliver.ts';

type TargetRow = typeof syncTargets.$inferSelect;

const hint = (s: string) => (s.length > 12 ? `${s.slice(0, 4)}…${s.slice(-4)}` : '…');

export function targetDto(r: TargetRow, secret?: string): SyncTargetDto {
  return {
    id: r.id,
    name: r.name,
    url: r.url,
    apiKeyHint: r.apiKeyHint,
    secretHint: r.secretHint,
    ...(secret ? { secret } : {}),
    enabled: r.enabled,
    eventTypes: r.eventTypes,
    intervalSeconds: r.intervalSeconds,
    cron: r.cron,
    timezone: r.timezone,
    batchSize: r.batchSize,
    status: r.status,
    lastSyncAt: r.lastSyncAt ? r.lastSyncAt.toISOString() : null,
    lastError: r.lastError,
    consecutiveFailures: r.consecutiveFailures,
    cursorSequence: r.cursorSeq,
    nextSyncAt: r.nextSyncAt.toISOString(),
    createdAt: r.createdAt.toISOString(),
    updatedAt: r.updatedAt.toISOString(),
  };
}

export function syncDeliveryDto(d: typeof syncDeliveries.$inferSelect): SyncDeliveryDto {
  return {
    id: d.id,
    kind: d.kind as SyncDeliveryDto['kind'],
    batchId: d.batchId,
    eventCount: d.eventCount,
    firstSequence: d.firstSeq,
    lastSequence: d.lastSeq,
    attempt: d.attempt,
    ok: d.ok,
    responseCode: d.responseCode,
    error: d.error,
    durationMs: d.durationMs,
    createdAt: d.createdAt.toISOString(),
  };
}

/** The URL must be http(s) and allowed by the organization's outbound address policy (else 400 saying why). */
async function checkUrl(tx: Tx, request: FastifyRequest, url: string) {
  const why = await urlRefusal(url, await requestPolicy(tx, request));
  if (why) {
    throw badRequest(`url refused by the outbound address policy: ${why}`, {
      issues: [{ path: 'body.url', message: why }],
    });
  }
}

function checkCron(cron: string | undefined, timezone: string) {
  if (cron !== undefined) checkSchedule(cron, timezone, 'body');
}

async function load(tx: Tx, id: string): Promise<TargetRow> {
  const [row] = await tx.select().from(syncTargets).where(eq(syncTargets.id, id));
  if (!row) throw notFound('Sync target', id);
  return row;
}

export function listTargets(request: FastifyRequest) {
  return tenant(request, async (tx) => ({
    data: (await tx.select().from(syncTargets).orderBy(syncTargets.createdAt)).map((r) => targetDto(r)),
  }));
}

export function getTarget(request: FastifyRequest, id: string) {
  return tenant(request, async (tx) => targetDto(await load(tx, id)));
}

export interface CreateTargetBody {
  name: string;
  url: string;
  apiKey?: string | undefined;
  enabled: boolean;
  eventTypes: string[];
  intervalSeconds?: number | undefined;
  cron?: string | undefined;
  timezone: string;
  batchSize: number;
}

const oneSchedule = (b: { intervalSeconds?: number | undefined; cron?: string | undefined }) => {
  if (b.intervalSeconds !== undefined && b.cron !== undefined) {
    throw badRequest('give either intervalSeconds or cron, not both', {
      issues: [{ path: 'body.cron', message: 'either intervalSeconds or cron' }],
    });
  }
};

/** Creates a target; its Standard Webhooks signing secret is returned this once. */
export function createTarget(request: FastifyRequest, secrets: SecretBox, body: CreateTargetBody) {
  const auth = authOf(request);
  oneSchedule(body);
  checkCron(body.cron, body.timezone);
  const id = randomUUID();
  const secret = `whsec_${randomBytes(24).toString('base64')}`;
  return tenant(request, async (tx) => {
    await checkUrl(tx, request, body.url);
    const [row] = await tx
      .insert(syncTargets)
      .values({
        id,
        organizationId: auth.organizationId,
        name: body.name,
        url: body.url,
        ...(body.apiKey
          ? {
              apiKeyEncrypted: secrets.encrypt(body.apiKey, syncKeyAad(id)),
              apiKeyKeyId: secrets.currentKeyId,
              apiKeyHint: hint(body.apiKey),
            }
          : {}),
        secretEncrypted: secrets.encrypt(secret, syncSecretAad(id)),
        secretKeyId: secrets.currentKeyId,
        secretHint: `${secret.slice(0, 10)}…${secret.slice(-4)}`,
        enabled: body.enabled,
        eventTypes: body.eventTypes,
        intervalSeconds: body.cron ? null : (body.intervalSeconds ?? 60),
        cron: body.cron ?? null,
        timezone: body.timezone,
        batchSize: body.batchSize,
        createdBy: auth.userId,
      })
      .returning();
    const dto = targetDto(row!);
    await audit(tx, request, { entityType: 'sync_target', entityId: id, action: 'created', after: dto });
    return targetDto(row!, secret);
  });
}

export interface UpdateTargetBody {
  name?: string | undefined;
  url?: string | undefined;
  apiKey?: string | null | undefined;
  enabled?: boolean | undefined;
  eventTypes?: string[] | undefined;
  intervalSeconds?: number | undefined;
  cron?: string | undefined;
  timezone?: string | undefined;
  batchSize?: number | undefined;
}

export function updateTarget(
  request: FastifyRequest,
  secrets: SecretBox,
  id: string,
  body: UpdateTargetBody,
) {
  oneSchedule(body);
  return tenant(request, async (tx) => {
    const row = await load(tx, id);
    const timezone = body.timezone ?? row.timezone;
    checkCron(body.cron ?? (body.timezone !== undefined ? (row.cron ?? undefined) : undefined), timezone);
    if (body.url !== undefined) await checkUrl(tx, request, body.url);
    const set: Partial<typeof syncTargets.$inferInsert> = { updatedAt: new Date() };
    if (body.name !== undefined) set.name = body.name;
    if (body.url !== undefined) set.url = body.url;
    if (body.apiKey !== undefined) {
      set.apiKeyEncrypted = body.apiKey === null ? null : secrets.encrypt(body.apiKey, syncKeyAad(id));
      set.apiKeyKeyId = body.apiKey === null ? null : secrets.currentKeyId;
      set.apiKeyHint = body.apiKey === null ? null : hint(body.apiKey);
    }
    if (body.enabled !== undefined) set.enabled = body.enabled;
    if (body.eventTypes !== undefined) set.eventTypes = body.eventTypes;
    if (body.intervalSeconds !== undefined)
      Object.assign(set, { intervalSeconds: body.intervalSeconds, cron: null });
    if (body.cron !== undefined) Object.assign(set, { cron: body.cron, intervalSeconds: null });
    if (body.timezone !== undefined) set.timezone = body.timezone;
    if (body.batchSize !== undefined) set.batchSize = body.batchSize;
    // A changed schedule, or a target switched on, syncs at once (then on its schedule).
    if (body.intervalSeconds !== undefined || body.cron !== undefined || body.enabled)
      set.nextSyncAt = new Date();
    const [updated] = await tx.update(syncTargets).set(set).where(eq(syncTargets.id, id)).returning();
    const dto = targetDto(updated!);
    await audit(tx, request, {
      entityType: 'sync_target',
      entityId: id,
      action: 'updated',
      before: targetDto(row),
      after: dto,
      metadata: body.apiKey !== undefined ? { apiKey: body.apiKey === null ? 'removed' : 'replaced' } : {},
    });
    return dto;
  });
}

export function deleteTarget(request: FastifyRequest, id: string) {
  return tenant(request, async (tx) => {
    const row = await load(tx, id);
    await tx.delete(syncTargets).where(eq(syncTargets.id, id));
    await audit(tx, request, {
      entityType: 'sync_target',
      entityId: id,
      action: 'deleted',
      before: targetDto(row),
    });
    return targetDto(row);
  });
}

/**
 * Full resync: the cursor goes back to the start of the retained outbox and the target is due now. The
 * generation goes up, so a batch in flight from before cannot move the cursor forward again.
 */
export function resyncTarget(request: FastifyRequest, id: string) {
  return tenant(request, async (tx) => {
    const row = await load(tx, id);
    const [updated] = await tx
      .update(syncTargets)
      .set({
        cursorTxid: sql`'0'::xid8`,
        cursorSeq: 0,
        generation: sql`${syncTargets.generation} + 1`,
        nextSyncAt: new Date(),
        consecutiveFailures: 0,
        updatedAt: new Date(),
      })
      .where(eq(syncTargets.id, id))
      .returning();
    await audit(tx, request, {
      entityType: 'sync_target',
      entityId: id,
      action: 'resync_requested',
      metadata: { fromSequence: row.cursorSeq },
    });
    return targetDto(updated!);
  });
}

export function listSyncDeliveries(request: FastifyRequest, id: string, limit: number) {
  return tenant(request, async (tx) => {
    await load(tx, id);
    const rows = await tx
      .select()
      .from(syncDeliveries)
      .where(eq(syncDeliveries.targetId, id))
      .orderBy(desc(syncDeliveries.createdAt), desc(syncDeliveries.id))
      .limit(limit);
    return { data: rows.map(syncDeliveryDto) };
  });
}

/** Sends a signed test batch (no events; the cursor does not move) and records it in the delivery log. */
export async function testTarget(request: FastifyRequest, secrets: SecretBox, id: string) {
  const auth = authOf(request);
  const { row, allowPrivate } = await tenant(request, async (tx) => ({
    row: await load(tx, id),
    allowPrivate: await allowsPrivateNetworks(tx, auth.organizationId),
  }));
  const batchId = `sync_test_${randomUUID()}`;
  const body = JSON.stringify({
    type: 'sync.test',
    id: batchId,
    organizationId: auth.organizationId,
    events: [],
  });
  const started = Date.now();
  const apiKey = row.apiKeyEncrypted ? secrets.decrypt(row.apiKeyEncrypted, syncKeyAad(id)) : null;
  const result = await signedPost({
    url: row.url,
    id: batchId,
    body,
    secrets: [secrets.decrypt(row.secretEncrypted, syncSecretAad(id))],
    headers: apiKey ? { authorization: `Bearer ${apiKey}` } : {},
    allowPrivate,
    privateNetworkCategories: request.server.privateNetworkCategories,
    timeoutMs: 10_000,
  });
  const durationMs = Date.now() - started;
  await tenant(request, async (tx) => {
    await tx.insert(syncDeliveries).values({
      organizationId: auth.organizationId,
      targetId: id,
      kind: 'test',
      batchId,
      eventCount: 0,
      attempt: 1,
      ok: !result.error,
      responseCode: result.code,
      error: result.error,
      durationMs,
    });
    await audit(tx, request, {
      entityType: 'sync_target',
      entityId: id,
      action: 'tested',
      metadata: { ok: !result.error, responseCode: result.code },
    });
  });
  return { ok: !result.error, responseCode: result.code, error: result.error, durationMs };
}
