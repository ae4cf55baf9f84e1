import { parseDefinition } from '@aiops/core';
import { agents, workflows } from '@aiops/db';
import * as engine from '@aiops/engine';
import { and, desc, eq, isNull, type SQL, sql } from 'drizzle-orm';
import type { FastifyRequest } from 'fastify';
import { authOf } from '../../http/auth.ts';
import { after, cursorTime, page } from '../../http/pagination.ts';
import { audit, tenant } from '../../http/tenant.ts';
import { refuseUnsafeOutbound } from '../../services/outbound.ts';
import { summaryDto, versionDto, workflowDto } from './dto.ts';

type Status = 'draft' | 'active' | 'paused' | 'archived';

export function listWorkflows(
  request: FastifyRequest,
  q: { limit: number; cursor?: string | undefined; q?: string | undefined; status?: Status | undefined },
) {
  return tenant(request, async (tx) => {
    const conditions: (SQL | undefined)[] = [
      isNull(workflows.deletedAt),
      after(workflows.createdAt, workflows.id, q.cursor),
    ];
    if (q.status) conditions.push(eq(workflows.status, q.status));
    if (q.q) conditions.push(sql`(${workflows.name} ILIKE ${`%${q.q}%`} OR ${workflows.name} % ${q.q})`);
    const rows = await tx
      .select({ row: workflows, id: workflows.id, cursorT: cursorTime(workflows.createdAt) })
      .from(workflows)
      .where(and(...conditions))
      .orderBy(desc(workflows.createdAt), desc(workflows.id))
      .limit(q.limit + 1);
    const p = page(rows, q.limit);
    return { data: p.data.map((r) => summaryDto(r.row)), nextCursor: p.nextCursor };
  });
}

export function createWorkflow(
  request: FastifyRequest,
  body: { definition: unknown; status: Status; changeNote?: string | undefined },
) {
  const auth = authOf(request);
  return tenant(request, async (tx) => {
    await refuseUnsafeOutbound(tx, request, { definition: body.definition });
    const row = await engine.createWorkflow(tx, {
      organizationId: auth.organizationId,
      definition: body.definition,
      status: body.status,
      userId: auth.userId,
      ...(body.changeNote ? { changeNote: body.changeNote } : {}),
    });
    const dto = workflowDto(row);
    await audit(tx, request, {
      entityType: 'workflow',
      entityId: row.id,
      action: 'created',
      after: summaryDto(row),
    });
    return dto;
  });
}

export function getWorkflow(request: FastifyRequest, id: string) {
  return tenant(request, async (tx) => workflowDto(await engine.getWorkflow(tx, id)));
}

export async function updateWorkflow(
  request: FastifyRequest,
  runs: engine.Runs,
  id: string,
  body: {
    definition?: Record<string, unknown> | undefined;
    name?: string | undefined;
    status?: Status | undefined;
    changeNote?: string | undefined;
  },
) {
  const auth = authOf(request);
  const dto = await tenant(request, async (tx) => {
    const before = await engine.lockWorkflow(tx, id);
    let row = before;
    // A rename is a new version too: the definition carries the name, so history shows it.
    const renamed = body.name !== undefined && body.name !== (body.definition?.name ?? before.name);
    const definition = renamed
      ? { ...(body.definition ?? before.definition), name: body.name }
      : body.definition;
    const saved = definition !== undefined;
    if (saved) {
      await refuseUnsafeOutbound(tx, request, { definition });
      const note = body.changeNote ?? (body.definition === undefined ? `renamed to ${body.name}` : undefined);
      row = await engine.saveDefinition(tx, id, definition, auth.userId, note);
    }
    if (body.status !== undefined && body.status !== row.status) {
      [row] = (await tx
        .update(workflows)
        .set({ status: body.status, updatedBy: auth.userId, updatedAt: new Date() })
        .where(eq(workflows.id, id))
        .returning()) as [engine.WorkflowRow];
    }
    await audit(tx, request, {
      entityType: 'workflow',
      entityId: id,
      action: saved ? 'version_created' : 'updated',
      before: summaryDto(before),
      after: summaryDto(row),
      metadata: { version: row.version },
    });
    return workflowDto(row);
  });
  runs.invalidate(auth.organizationId, id);
  return dto;
}

export async function deleteWorkflow(request: FastifyRequest, runs: engine.Runs, id: string) {
  const auth = authOf(request);
  const dto = await tenant(request, async (tx) => {
    const before = await engine.lockWorkflow(tx, id);
    const [row] = (await tx
      .update(workflows)
      .set({ deletedAt: new Date(), status: 'archived', updatedBy: auth.userId })
      .where(eq(workflows.id, id))
      .returning()) as [engine.WorkflowRow];
    await audit(tx, request, {
      entityType: 'workflow',
      entityId: id,
      action: 'deleted',
      before: summaryDto(before),
    });
    return workflowDto(row);
  });
  runs.invalidate(auth.organizationId, id);
  return dto;
}

export function listVersions(request: FastifyRequest, id: string) {
  return tenant(request, async (tx) => (await engine.listVersions(tx, id)).map(versionDto));
}

export function getVersion(request: FastifyRequest, id: string, version: number) {
  return tenant(request, async (tx) => {
    await engine.getWorkflow(tx, id);
    return versionDto(await engine.getVersion(tx, id, version));
  });
}

export async function rollback(request: FastifyRequest, runs: engine.Runs, id: string, version: number) {
  const auth = authOf(request);
  const dto = await tenant(request, async (tx) => {
    const before = await engine.lockWorkflow(tx, id);
    const row = await engine.rollbackWorkflow(tx, id, version, auth.userId);
    await audit(tx, request, {
      entityType: 'workflow',
      entityId: id,
      action: 'rolled_back',
      before: summaryDto(before),
      after: summaryDto(row),
      metadata: { toVersion: version, newVersion: row.version },
    });
    return workflowDto(row);
  });
  runs.invalidate(auth.organizationId, id);
  return dto;
}

export function validate(definition: unknown) {
  const r = parseDefinition(definition);
  return r.ok ? { valid: true, issues: [] } : { valid: false, issues: r.issues };
}

/** Imports our format, seed 000's or seed 003's task list (JSON or YAML) as a new workflow. */
export function importWorkflow(
  request: FastifyRequest,
  body: unknown,
  query: { name?: string | undefined; status?: Status | undefined },
) {
  const auth = authOf(request);
  return tenant(request, async (tx) => {
    const lookup: engine.AgentLookup = async (ref) => {
      const [row] = await tx
        .select({ id: agents.id })
        .from(agents)
        .where(
          and(
            isNull(agents.deletedAt),
            sql`(${agents.name} = ${ref} OR ${agents.metadata}->>'catalogId' = ${ref} OR ${agents.id}::text = ${ref})`,
          ),
        )
        .limit(1);
      return row;
    };
    const converted = await engine.convertImport(body, lookup, query.name);
    await refuseUnsafeOutbound(tx, request, { definition: converted.definition });
    const row = await engine.createWorkflow(tx, {
      organizationId: auth.organizationId,
      definition: converted.definition,
      status: query.status ?? 'draft',
      userId: auth.userId,
      changeNote: `imported (${converted.shape})`,
    });
    await audit(tx, request, {
      entityType: 'workflow',
      entityId: row.id,
      action: 'imported',
      after: summaryDto(row),
      metadata: { shape: converted.shape },
    });
    return { ...workflowDto(row), importedFrom: converted.shape };
  });
}
