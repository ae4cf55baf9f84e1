import { parseDefinition, type SecretBox } from '@aiops/core';
import { agents, type Database, type Tx, workflows } from '@aiops/db';
import * as engine from '@aiops/engine';
import { and, desc, eq, isNull, type SQL, sql } from 'drizzle-orm';
import type { FastifyRequest } from 'fastify';
import { authOf } from '../../http/auth.ts';
import { after, cursorTime, page } from '../../http/pagination.ts';
import { audit, tenant } from '../../http/tenant.ts';
import { refuseUnsafeOutbound } from '../../services/outbound.ts';
import { checkPromotion, type GateOutcome, policyOf } from '../experiments/promotion.ts';
import { createTrigger } from '../triggers/service.ts';
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

interface PromotionInput {
  promotionOverride?: { reason: string } | undefined;
  promotionWaitSeconds?: number | undefined;
}

/** Audits how a gated promotion went (in the promotion's transaction). */
async function auditGate(tx: Tx, request: FastifyRequest, id: string, gate: GateOutcome, reason?: string) {
  if (gate.result !== 'overridden') return;
  await audit(tx, request, {
    entityType: 'workflow',
    entityId: id,
    action: 'promotion_overridden',
    metadata: { reason, ...gate.figures },
  });
}

export async function updateWorkflow(
  request: FastifyRequest,
  db: Database,
  runs: engine.Runs,
  id: string,
  body: {
    definition?: Record<string, unknown> | undefined;
    name?: string | undefined;
    status?: Status | undefined;
    changeNote?: string | undefined;
  } & PromotionInput,
) {
  const auth = authOf(request);
  // The promotion gate: a new definition or an activation that leaves the workflow active must clear the
  // policy's bar first. A new definition is saved as a candidate version (not current) to be measured.
  const gate = await tenant(request, async (tx) => {
    const before = await engine.getWorkflow(tx, id);
    if ((body.status ?? before.status) !== 'active') return undefined;
    const policy = policyOf(before.definition, body.definition);
    if (!policy || (body.definition === undefined && before.status === 'active')) return undefined;
    if (body.definition === undefined) return { policy, version: before.version, candidate: false };
    const definition = body.name !== undefined ? { ...body.definition, name: body.name } : body.definition;
    await refuseUnsafeOutbound(tx, request, { definition });
    const v = await engine.saveCandidate(tx, id, definition, auth.userId, body.changeNote ?? 'candidate');
    await audit(tx, request, {
      entityType: 'workflow',
      entityId: id,
      action: 'candidate_saved',
      metadata: { version: v.version },
    });
    return { policy, version: v.version, candidate: true };
  });
  const outcome = gate
    ? await checkPromotion(db, request, {
        workflowId: id,
        version: gate.version,
        policy: gate.policy,
        override: body.promotionOverride,
        waitSeconds: body.promotionWaitSeconds,
      })
    : undefined;
  const dto = await tenant(request, async (tx) => {
    const before = await engine.lockWorkflow(tx, id);
    let row = before;
    // A rename is a new version too: the definition carries the name, so history shows it.
    const renamed = body.name !== undefined && body.name !== (body.definition?.name ?? before.name);
    const definition = renamed
      ? { ...(body.definition ?? before.definition), name: body.name }
      : body.definition;
    const saved = definition !== undefined;
    if (gate?.candidate) {
      row = await engine.makeCandidateCurrent(tx, id, gate.version, auth.userId);
    } else if (saved) {
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
      metadata: {
        version: row.version,
        ...(outcome ? { promotion: { experimentId: outcome.experimentId, result: outcome.result } } : {}),
      },
    });
    if (outcome) await auditGate(tx, request, id, outcome, body.promotionOverride?.reason);
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

export async function rollback(
  request: FastifyRequest,
  db: Database,
  runs: engine.Runs,
  id: string,
  body: { version: number } & PromotionInput,
) {
  const auth = authOf(request);
  const { version } = body;
  const policy = await tenant(request, async (tx) => {
    const current = await engine.getWorkflow(tx, id);
    const target = await engine.getVersion(tx, id, version);
    return policyOf(current.definition, target.definition);
  });
  const outcome = policy
    ? await checkPromotion(db, request, {
        workflowId: id,
        version,
        policy,
        override: body.promotionOverride,
        waitSeconds: body.promotionWaitSeconds,
      })
    : undefined;
  const dto = await tenant(request, async (tx) => {
    const before = await engine.lockWorkflow(tx, id);
    // A candidate (saved above the current version) becomes current as it is; an old version is copied.
    const row =
      version > before.version
        ? await engine.makeCandidateCurrent(tx, id, version, auth.userId)
        : await engine.rollbackWorkflow(tx, id, version, auth.userId);
    await audit(tx, request, {
      entityType: 'workflow',
      entityId: id,
      action: 'rolled_back',
      before: summaryDto(before),
      after: summaryDto(row),
      metadata: {
        toVersion: version,
        newVersion: row.version,
        ...(outcome ? { promotion: { experimentId: outcome.experimentId, result: outcome.result } } : {}),
      },
    });
    if (outcome) await auditGate(tx, request, id, outcome, body.promotionOverride?.reason);
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
export async function importWorkflow(
  request: FastifyRequest,
  body: unknown,
  query: { name?: string | undefined; status?: Status | undefined },
  secrets: SecretBox,
) {
  const auth = authOf(request);
  const imported = await tenant(request, async (tx) => {
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
      metadata: { shape: converted.shape, ...(converted.report ? { report: converted.report } : {}) },
    });
    return {
      workflow: { ...workflowDto(row), importedFrom: converted.shape },
      report: converted.report,
      triggers: converted.triggers,
    };
  });
  if (!imported.report) return imported.workflow;
  // n8n triggers: created with the workflow, each audited (a webhook's secret is in this answer only)
  const triggers = [];
  for (const t of imported.triggers ?? []) {
    const spec =
      t.type === 'webhook'
        ? {
            type: 'webhook' as const,
            name: t.name.slice(0, 255),
            webhook: {
              auth: 'bearer' as const,
              mode: t.webhook!.mode,
              syncTimeoutMs: 30_000,
              rateLimitPerMinute: 600,
            },
            ...(t.inputMapping ? { inputMapping: t.inputMapping } : {}),
          }
        : {
            type: 'schedule' as const,
            name: t.name.slice(0, 255),
            schedule: {
              cron: t.schedule!.cron,
              timezone: t.schedule!.timezone,
              missedFirePolicy: 'skip' as const,
              catchUpLimit: 10,
            },
          };
    triggers.push(await createTrigger(request, secrets, imported.workflow.id, spec));
  }
  return { ...imported.workflow, report: imported.report, triggers };
}
