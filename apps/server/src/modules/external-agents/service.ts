import { badRequest, conflict, forbidden, notFound, unauthorized } from '@aiops/core';
import type { FastifyRequest } from 'fastify';
import { authOf, credentialOf } from '../../http/auth.ts';
import { audit, tenant } from '../../http/tenant.ts';
import { randomToken, sha256 } from '../../services/tokens.ts';
import { agentHeardFrom, agentLogged } from '../alerts/evaluate.ts';
import * as repo from './repo.ts';
import type { MonitorDto } from './schemas.ts';

const KEY_PREFIX_LENGTH = 12;
const ERROR_STATUSES = new Set(['error', 'failed', 'failure', 'unhealthy']);

export function toMonitorDto(m: repo.MonitorRow): MonitorDto {
  return {
    agentId: m.agentId,
    agentName: m.agentName,
    keyPrefix: m.keyPrefix,
    expectedIntervalSeconds: m.expectedIntervalSeconds,
    graceSeconds: m.graceSeconds,
    state: m.state,
    stateChangedAt: m.stateChangedAt.toISOString(),
    lastHeartbeatAt: m.lastHeartbeatAt?.toISOString() ?? null,
    reportedStatus: m.reportedStatus,
    reportedVersion: m.reportedVersion,
    metrics: m.metrics,
  };
}

function toLogDto(r: repo.LogRow) {
  return {
    id: r.id,
    agentId: r.agentId,
    status: r.status,
    message: r.message,
    details: r.details,
    startedAt: r.startedAt?.toISOString() ?? null,
    completedAt: r.completedAt?.toISOString() ?? null,
    durationMs: r.durationMs,
    createdAt: r.createdAt.toISOString(),
  };
}

/**
 * Gives an external agent a new key (the first, or a rotation: the old key stops working at once), and
 * optionally its heartbeat window. The key is returned only here.
 */
export async function issueKey(
  request: FastifyRequest,
  agentId: string,
  settings: { expectedIntervalSeconds?: number | undefined; graceSeconds?: number | undefined },
) {
  const auth = authOf(request);
  const key = randomToken('agk');
  return tenant(request, async (tx) => {
    const agent = await repo.findAgent(tx, agentId);
    if (!agent) throw notFound('agent', agentId);
    if (agent.kind !== 'external') {
      throw conflict(
        `Agent ${agentId} is of kind "${agent.kind}": only agents of kind "external" have keys and heartbeats (create one with kind "external")`,
      );
    }
    const before = await repo.findMonitor(tx, agentId);
    await repo.upsertMonitorKey(tx, {
      agentId,
      organizationId: auth.organizationId,
      keyHash: sha256(key),
      keyPrefix: key.slice(0, KEY_PREFIX_LENGTH),
      expectedIntervalSeconds: settings.expectedIntervalSeconds,
      graceSeconds: settings.graceSeconds,
    });
    const monitor = toMonitorDto((await repo.findMonitor(tx, agentId))!);
    await audit(tx, request, {
      entityType: 'agent_key',
      entityId: agentId,
      action: before ? 'rotated' : 'created',
      before: before ? toMonitorDto(before) : null,
      after: monitor,
    });
    return { monitor, key };
  });
}

export function updateMonitor(
  request: FastifyRequest,
  agentId: string,
  settings: { expectedIntervalSeconds?: number | undefined; graceSeconds?: number | undefined },
) {
  return tenant(request, async (tx) => {
    const before = await repo.findMonitor(tx, agentId);
    if (!before) throw notFound('agent monitor', agentId);
    await repo.updateSettings(tx, agentId, settings);
    const after = toMonitorDto((await repo.findMonitor(tx, agentId))!);
    await audit(tx, request, {
      entityType: 'agent_monitor',
      entityId: agentId,
      action: 'updated',
      before: toMonitorDto(before),
      after,
    });
    return after;
  });
}

export function getMonitor(request: FastifyRequest, agentId: string) {
  return tenant(request, async (tx) => {
    const m = await repo.findMonitor(tx, agentId);
    if (!m) throw notFound('agent monitor', agentId);
    return toMonitorDto(m);
  });
}

export function listMonitors(request: FastifyRequest) {
  return tenant(request, async (tx) => ({ data: (await repo.listMonitors(tx)).map(toMonitorDto) }));
}

export function listLogs(
  request: FastifyRequest,
  agentId: string,
  q: { limit: number; cursor?: string | undefined; status?: 'success' | 'error' | 'warning' | undefined },
) {
  return tenant(request, async (tx) => {
    if (!(await repo.findAgent(tx, agentId))) throw notFound('agent', agentId);
    const p = await repo.listLogs(tx, agentId, q);
    return { data: p.data.map((r) => toLogDto(r.row)), nextCursor: p.nextCursor };
  });
}

/**
 * The agent a request's agent key belongs to. The key is valid only for its own agent's heartbeat and log
 * routes: anywhere else the general authenticator does not know it (401), and for another agent it is 403.
 */
async function agentOfKey(request: FastifyRequest, agentId: string) {
  const credential = credentialOf(request);
  if (!credential?.startsWith('agk_')) {
    throw unauthorized("Send the agent's key: Authorization: Bearer agk_… (issued by POST /agents/:id/key)");
  }
  const hash = sha256(credential);
  const found = await request.server.db.system((tx) => repo.monitorByKeyHash(tx, hash));
  if (!found) throw unauthorized('This agent key is not valid (rotated, or its agent was deleted)');
  if (found.agentId !== agentId) {
    throw forbidden('This agent key belongs to another agent: an agent key acts only for its own agent');
  }
  return found;
}

export async function heartbeat(
  request: FastifyRequest,
  agentId: string,
  body: {
    status?: string | undefined;
    metrics?: Record<string, number> | undefined;
    version?: string | undefined;
  },
) {
  const { organizationId } = await agentOfKey(request, agentId);
  const state: 'error' | 'online' =
    body.status && ERROR_STATUSES.has(body.status.toLowerCase()) ? 'error' : 'online';
  const { before, row } = await request.server.db.withTenant(organizationId, async (tx) => {
    const r = await repo.recordHeartbeat(tx, agentId, {
      state,
      status: body.status ?? null,
      version: body.version ?? null,
      metrics: body.metrics ?? null,
    });
    // Alert changes and their notifications are written here; the worker's notifier sends them.
    if (r.before === 'offline') await agentHeardFrom(tx, organizationId, agentId);
    return r;
  });
  if (before !== state) {
    request.log.info({ agentId, from: before, to: state }, 'external agent state changed');
  }
  const next = row.lastHeartbeatAt!.getTime() + (row.expectedIntervalSeconds + row.graceSeconds) * 1000;
  return { state, nextHeartbeatBefore: new Date(next).toISOString() };
}

export async function writeLog(
  request: FastifyRequest,
  agentId: string,
  body: {
    status: 'success' | 'error' | 'warning';
    message?: string | undefined;
    details?: Record<string, unknown> | undefined;
    startedAt?: string | undefined;
    completedAt?: string | undefined;
    durationMs?: number | undefined;
  },
) {
  const { organizationId } = await agentOfKey(request, agentId);
  const startedAt = body.startedAt ? new Date(body.startedAt) : null;
  const completedAt = body.completedAt ? new Date(body.completedAt) : null;
  if (startedAt && completedAt && completedAt < startedAt) {
    throw badRequest('body.completedAt is before body.startedAt: send the times the work started and ended', {
      issues: [{ path: 'body.completedAt', message: 'must not be before startedAt' }],
    });
  }
  const durationMs =
    body.durationMs ??
    (startedAt && completedAt ? Math.min(completedAt.getTime() - startedAt.getTime(), 2_147_483_647) : null);
  const row = await request.server.db.withTenant(organizationId, async (tx) => {
    const row = await repo.insertLog(tx, {
      organizationId,
      agentId,
      status: body.status,
      message: body.message ?? null,
      details: body.details ?? null,
      startedAt,
      completedAt,
      durationMs,
    });
    await agentLogged(tx, organizationId, agentId);
    return row;
  });
  return toLogDto(row);
}
