import { conflict, notFound } from '@aiops/core';
import { queryRows, type Tx } from '@aiops/db';
import { type SQL, sql } from 'drizzle-orm';
import type { FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { authOf } from '../../http/auth.ts';
import { audit, tenant } from '../../http/tenant.ts';
import { enqueue } from './evaluate.ts';
import type { AlertDto, alertQuery } from './schemas.ts';

interface Row {
  id: string;
  rule_id: string;
  rule_name: string;
  severity: AlertDto['severity'];
  subject_type: AlertDto['subjectType'];
  subject_id: string;
  subject_name: string | null;
  agent_id: string | null;
  workflow_id: string | null;
  status: AlertDto['status'];
  triggered_at: Date | string;
  acknowledged_at: Date | string | null;
  acknowledged_by: string | null;
  resolved_at: Date | string | null;
  resolved_by: string | null;
  resolution_comment: string | null;
  details: Record<string, unknown>;
}

const iso = (d: Date | string | null) => (d === null ? null : new Date(d).toISOString());

const toDto = (r: Row): AlertDto => ({
  id: r.id,
  ruleId: r.rule_id,
  ruleName: r.rule_name,
  severity: r.severity,
  subjectType: r.subject_type,
  subjectId: r.subject_id,
  subjectName: r.subject_name,
  agentId: r.agent_id,
  workflowId: r.workflow_id,
  status: r.status,
  triggeredAt: iso(r.triggered_at)!,
  acknowledgedAt: iso(r.acknowledged_at),
  acknowledgedBy: r.acknowledged_by,
  resolvedAt: iso(r.resolved_at),
  resolvedBy: r.resolved_by,
  resolutionComment: r.resolution_comment,
  details: r.details,
});

function select(tx: Tx, where: SQL, limit: number) {
  return queryRows<Row>(
    tx,
    sql`SELECT a.id, a.rule_id, r.name AS rule_name, r.severity, r.subject_type, a.subject_id,
          coalesce(ag.name, w.name, CASE WHEN r.subject_type = 'organization' THEN g.name END) AS subject_name,
          a.agent_id, a.workflow_id, a.status, a.triggered_at, a.acknowledged_at, a.acknowledged_by,
          a.resolved_at, a.resolved_by, a.resolution_comment, a.details
        FROM alerts a JOIN alert_rules r ON r.id = a.rule_id
        LEFT JOIN agents ag ON ag.id = a.agent_id LEFT JOIN workflows w ON w.id = a.workflow_id
        LEFT JOIN organizations g ON g.id = a.organization_id
        WHERE ${where} ORDER BY a.triggered_at DESC, a.id DESC LIMIT ${limit}`,
  );
}

export function listAlerts(request: FastifyRequest, q: z.infer<typeof alertQuery>) {
  return tenant(request, async (tx) => {
    const where: SQL[] = [sql`true`];
    if (q.status === 'unresolved') where.push(sql`a.status IN ('open', 'acknowledged')`);
    else if (q.status) where.push(sql`a.status = ${q.status}`);
    if (q.severity) where.push(sql`r.severity = ${q.severity}`);
    if (q.ruleId) where.push(sql`a.rule_id = ${q.ruleId}::uuid`);
    if (q.agentId) where.push(sql`a.agent_id = ${q.agentId}::uuid`);
    if (q.workflowId) where.push(sql`a.workflow_id = ${q.workflowId}::uuid`);
    return { data: (await select(tx, sql.join(where, sql` AND `), q.limit)).map(toDto) };
  });
}

async function one(tx: Tx, id: string): Promise<AlertDto> {
  const [row] = await select(tx, sql`a.id = ${id}::uuid`, 1);
  if (!row) throw notFound('alert', id);
  return toDto(row);
}

/** open → acknowledged (who and when): stops reminders; notified and audited. */
export function acknowledge(request: FastifyRequest, id: string) {
  const auth = authOf(request);
  return tenant(request, async (tx) => {
    const before = await one(tx, id);
    if (before.status !== 'open')
      throw conflict(`alert ${id} is ${before.status}: only an open alert can be acknowledged`);
    await tx.execute(sql`UPDATE alerts SET status = 'acknowledged', acknowledged_at = now(),
      acknowledged_by = ${auth.userId}::uuid WHERE id = ${id}::uuid`);
    await enqueue(
      tx,
      id,
      'acknowledged',
      auth.userId ? `acknowledged by user ${auth.userId}` : 'acknowledged with an API key',
    );
    const after = await one(tx, id);
    await audit(tx, request, { entityType: 'alert', entityId: id, action: 'acknowledged', before, after });
    return after;
  });
}

/** open or acknowledged → resolved by hand, with an optional comment; notified and audited. */
export function resolveByHand(request: FastifyRequest, id: string, comment: string | undefined) {
  const auth = authOf(request);
  return tenant(request, async (tx) => {
    const before = await one(tx, id);
    if (before.status === 'resolved') throw conflict(`alert ${id} is already resolved`);
    const text = comment?.trim() || 'resolved by hand';
    await tx.execute(sql`UPDATE alerts SET status = 'resolved', resolved_at = now(),
      resolved_by = ${auth.userId}::uuid, resolution_comment = ${text} WHERE id = ${id}::uuid`);
    await enqueue(tx, id, 'resolved', text);
    const after = await one(tx, id);
    await audit(tx, request, { entityType: 'alert', entityId: id, action: 'resolved', before, after });
    return after;
  });
}
