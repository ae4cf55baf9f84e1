import { agentLogs, agents, type ExternalAgentState, externalAgentMonitors, type Tx } from '@aiops/db';
import { and, desc, eq, isNull, sql } from 'drizzle-orm';
import { after, cursorTime, page } from '../../http/pagination.ts';

export type MonitorRow = typeof externalAgentMonitors.$inferSelect & { agentName: string };
export type LogRow = typeof agentLogs.$inferSelect;

const monitorColumns = {
  agentId: externalAgentMonitors.agentId,
  organizationId: externalAgentMonitors.organizationId,
  keyHash: externalAgentMonitors.keyHash,
  keyPrefix: externalAgentMonitors.keyPrefix,
  expectedIntervalSeconds: externalAgentMonitors.expectedIntervalSeconds,
  graceSeconds: externalAgentMonitors.graceSeconds,
  state: externalAgentMonitors.state,
  stateChangedAt: externalAgentMonitors.stateChangedAt,
  lastHeartbeatAt: externalAgentMonitors.lastHeartbeatAt,
  reportedStatus: externalAgentMonitors.reportedStatus,
  reportedVersion: externalAgentMonitors.reportedVersion,
  metrics: externalAgentMonitors.metrics,
  createdAt: externalAgentMonitors.createdAt,
  updatedAt: externalAgentMonitors.updatedAt,
  agentName: agents.name,
};

export async function findAgent(tx: Tx, id: string) {
  const [row] = await tx
    .select({ id: agents.id, kind: agents.kind, name: agents.name })
    .from(agents)
    .where(and(eq(agents.id, id), isNull(agents.deletedAt)));
  return row;
}

export async function findMonitor(tx: Tx, agentId: string): Promise<MonitorRow | undefined> {
  const [row] = await tx
    .select(monitorColumns)
    .from(externalAgentMonitors)
    .innerJoin(agents, eq(agents.id, externalAgentMonitors.agentId))
    .where(and(eq(externalAgentMonitors.agentId, agentId), isNull(agents.deletedAt)));
  return row;
}

export async function listMonitors(tx: Tx): Promise<MonitorRow[]> {
  return tx
    .select(monitorColumns)
    .from(externalAgentMonitors)
    .innerJoin(agents, eq(agents.id, externalAgentMonitors.agentId))
    .where(isNull(agents.deletedAt))
    .orderBy(agents.name)
    .limit(1000);
}

/** Creates the monitor with its key, or gives it a new key (the old one stops working at once). */
export async function upsertMonitorKey(
  tx: Tx,
  v: {
    agentId: string;
    organizationId: string;
    keyHash: string;
    keyPrefix: string;
    expectedIntervalSeconds?: number | undefined;
    graceSeconds?: number | undefined;
  },
): Promise<void> {
  const settings = {
    ...(v.expectedIntervalSeconds !== undefined
      ? { expectedIntervalSeconds: v.expectedIntervalSeconds }
      : {}),
    ...(v.graceSeconds !== undefined ? { graceSeconds: v.graceSeconds } : {}),
  };
  await tx
    .insert(externalAgentMonitors)
    .values({ ...v, ...settings })
    .onConflictDoUpdate({
      target: externalAgentMonitors.agentId,
      set: { keyHash: v.keyHash, keyPrefix: v.keyPrefix, ...settings, updatedAt: new Date() },
    });
}

export async function updateSettings(
  tx: Tx,
  agentId: string,
  s: { expectedIntervalSeconds?: number | undefined; graceSeconds?: number | undefined },
): Promise<void> {
  await tx
    .update(externalAgentMonitors)
    .set({
      ...(s.expectedIntervalSeconds !== undefined
        ? { expectedIntervalSeconds: s.expectedIntervalSeconds }
        : {}),
      ...(s.graceSeconds !== undefined ? { graceSeconds: s.graceSeconds } : {}),
      updatedAt: new Date(),
    })
    .where(eq(externalAgentMonitors.agentId, agentId));
}

/** Across tenants (run as the owner role): which agent and organization a key belongs to. */
export async function monitorByKeyHash(tx: Tx, keyHash: string) {
  const [row] = await tx
    .select({ agentId: externalAgentMonitors.agentId, organizationId: externalAgentMonitors.organizationId })
    .from(externalAgentMonitors)
    .innerJoin(agents, eq(agents.id, externalAgentMonitors.agentId))
    .where(and(eq(externalAgentMonitors.keyHash, keyHash), isNull(agents.deletedAt)));
  return row;
}

/** Records a heartbeat; returns the state before and after. */
export async function recordHeartbeat(
  tx: Tx,
  agentId: string,
  hb: {
    state: ExternalAgentState;
    status: string | null;
    version: string | null;
    metrics: Record<string, number> | null;
  },
) {
  const [before] = await tx
    .select({ state: externalAgentMonitors.state })
    .from(externalAgentMonitors)
    .where(eq(externalAgentMonitors.agentId, agentId))
    .for('update');
  const [row] = await tx
    .update(externalAgentMonitors)
    .set({
      state: hb.state,
      stateChangedAt: before?.state === hb.state ? externalAgentMonitors.stateChangedAt : sql`now()`,
      lastHeartbeatAt: sql`now()`,
      reportedStatus: hb.status,
      ...(hb.version !== null ? { reportedVersion: hb.version } : {}),
      ...(hb.metrics !== null ? { metrics: hb.metrics } : {}),
      updatedAt: sql`now()`,
    })
    .where(eq(externalAgentMonitors.agentId, agentId))
    .returning({
      lastHeartbeatAt: externalAgentMonitors.lastHeartbeatAt,
      expectedIntervalSeconds: externalAgentMonitors.expectedIntervalSeconds,
      graceSeconds: externalAgentMonitors.graceSeconds,
    });
  await tx.update(agents).set({ lastHeartbeatAt: sql`now()` }).where(eq(agents.id, agentId));
  return { before: before?.state, row: row! };
}

export async function insertLog(tx: Tx, values: typeof agentLogs.$inferInsert): Promise<LogRow> {
  const [row] = await tx.insert(agentLogs).values(values).returning();
  return row!;
}

export async function listLogs(
  tx: Tx,
  agentId: string,
  q: { limit: number; cursor?: string | undefined; status?: 'success' | 'error' | 'warning' | undefined },
) {
  const rows = await tx
    .select({ row: agentLogs, id: agentLogs.id, cursorT: cursorTime(agentLogs.createdAt) })
    .from(agentLogs)
    .where(
      and(
        eq(agentLogs.agentId, agentId),
        q.status ? eq(agentLogs.status, q.status) : undefined,
        after(agentLogs.createdAt, agentLogs.id, q.cursor),
      ),
    )
    .orderBy(desc(agentLogs.createdAt), desc(agentLogs.id))
    .limit(q.limit + 1);
  return page(rows, q.limit);
}

/**
 * Marks offline every monitored agent whose last heartbeat (or, never heard from, its key's creation) is
 * older than its interval plus grace. One UPDATE: concurrent sweeps in several processes serialize on the
 * rows, and the second one no longer matches them, so each agent goes offline exactly once.
 */
export async function sweepOffline(tx: Tx): Promise<{ agentId: string; organizationId: string }[]> {
  return tx
    .update(externalAgentMonitors)
    .set({ state: 'offline', stateChangedAt: sql`now()`, updatedAt: sql`now()` })
    .where(
      sql`${externalAgentMonitors.state} <> 'offline'
        AND coalesce(${externalAgentMonitors.lastHeartbeatAt}, ${externalAgentMonitors.createdAt})
          + make_interval(secs => ${externalAgentMonitors.expectedIntervalSeconds} + ${externalAgentMonitors.graceSeconds}) < now()`,
    )
    .returning({
      agentId: externalAgentMonitors.agentId,
      organizationId: externalAgentMonitors.organizationId,
    });
}
