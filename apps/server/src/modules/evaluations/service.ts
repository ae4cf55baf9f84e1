import { randomUUID } from 'node:crypto';
import {
  type CreateEvaluatorBody,
  type EvaluationSample,
  judgeConfigSchema,
  ruleConfigSchema,
  type UpdateEvaluatorBody,
} from '@aiops/contracts';
import { conflict, notFound, validationFailed } from '@aiops/core';
import {
  evaluationJobs,
  evaluatorAttachments,
  evaluators,
  evaluatorVersions,
  queryRows,
  type Tx,
} from '@aiops/db';
import { and, desc, eq, isNull, sql } from 'drizzle-orm';
import type { FastifyRequest } from 'fastify';
import type { ZodError } from 'zod';
import { authOf } from '../../http/auth.ts';
import { audit, tenant } from '../../http/tenant.ts';
import { isUniqueViolation } from '../../services/dto.ts';
import { checkIntegration } from '../agents/service.ts';
import { recordModelSpend } from '../billing/ledger.ts';
import { evaluateSample, type ScoringPorts } from './evaluate.ts';
import {
  definitionOf,
  type EvaluatorRow,
  findEvaluator,
  insertResult,
  judgeUsage,
  listEvaluatorVersions,
  listRunResults,
  loadSample,
  type ResultView,
  resultById,
} from './repo.ts';
import { checkRule } from './rules.ts';

const DEFAULT_THRESHOLD = { rule: 50, judge: 70 } as const;
/** Embedding similarity passes by default at 80 (a rule that holds or not passes at 50). */
const DEFAULT_SIMILARITY_THRESHOLD = 80;
const EMBEDDING_PROVIDERS = ['openai', 'google', 'cohere', 'ollama', 'openai-compatible'];

export function evaluatorDto(row: EvaluatorRow) {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    kind: row.kind,
    config: row.config,
    threshold: Number(row.threshold),
    version: row.version,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

export function resultDto(view: ResultView) {
  const row = view.result;
  return {
    id: row.id,
    runId: row.workflowExecutionId,
    agentExecutionId: row.agentExecutionId,
    nodeId: view.nodeId,
    attempt: view.attempt,
    evaluatorId: row.evaluatorId,
    evaluatorName: row.evaluatorName,
    evaluatorVersion: row.evaluatorVersion,
    kind: row.kind,
    score: Number(row.score),
    threshold: Number(row.threshold),
    passed: row.passed,
    details: row.details,
    explanation: row.explanation,
    costUsd: Number(row.costUsd),
    source: row.source,
    createdBy:
      row.createdBy && view.createdByName !== null ? { id: row.createdBy, name: view.createdByName } : null,
    createdAt: row.createdAt.toISOString(),
  };
}

const issuesOf = (e: ZodError) =>
  e.issues.map((i) => ({ path: ['body', 'config', ...i.path].join('.'), message: i.message }));

/** Validates a kind's config (and its regex, schema, judge integration) before it is saved. */
async function checkConfig(
  tx: Tx,
  kind: 'rule' | 'judge',
  config: unknown,
): Promise<Record<string, unknown>> {
  if (kind === 'rule') {
    const r = ruleConfigSchema.safeParse(config);
    if (!r.success) throw validationFailed('Invalid rule evaluator config', issuesOf(r.error));
    if (r.data.rule === 'embedding_similarity') await checkEmbeddingModel(tx, r.data);
    else checkRule(r.data);
    return r.data as Record<string, unknown>;
  }
  const j = judgeConfigSchema.safeParse(config);
  if (!j.success) throw validationFailed('Invalid judge evaluator config', issuesOf(j.error));
  if (!j.data.template && !j.data.rubric)
    throw validationFailed('Invalid judge evaluator config: give a template or a rubric', [
      { path: 'body.config.rubric', message: 'a template or a rubric is required' },
    ]);
  await checkIntegration(tx, j.data.integrationId, j.data.model);
  return j.data as Record<string, unknown>;
}

/** An embedding model the embedding port serves, with an integration of its provider when one is named. */
async function checkEmbeddingModel(
  tx: Tx,
  c: { model?: string | undefined; integrationId?: string | null | undefined },
) {
  if (c.integrationId && !c.model)
    throw validationFailed('Invalid evaluator: an integration needs the embedding model it serves', [
      { path: 'body.config.model', message: 'required with integrationId' },
    ]);
  if (!c.model) return;
  const provider = c.model.slice(0, c.model.indexOf(':'));
  const ok = c.model === 'simulator:embed' || EMBEDDING_PROVIDERS.includes(provider);
  if (!ok)
    throw validationFailed(
      `Invalid evaluator: ${c.model} is not an embedding model here (use simulator:embed or a model of ${EMBEDDING_PROVIDERS.join(', ')})`,
      [{ path: 'body.config.model', message: 'not an embedding model' }],
    );
  await checkIntegration(tx, c.integrationId, c.model);
}

const nameTaken = (name: string) =>
  conflict(`An evaluator named "${name}" already exists: pick another name`, { name });

async function saveVersion(tx: Tx, row: EvaluatorRow, userId: string | null) {
  await tx.insert(evaluatorVersions).values({
    organizationId: row.organizationId,
    evaluatorId: row.id,
    version: row.version,
    name: row.name,
    kind: row.kind,
    config: row.config,
    threshold: row.threshold,
    createdBy: userId,
  });
}

export function listEvaluators(request: FastifyRequest) {
  return tenant(request, async (tx) => {
    const rows = await tx
      .select()
      .from(evaluators)
      .where(isNull(evaluators.deletedAt))
      .orderBy(desc(evaluators.createdAt), desc(evaluators.id))
      .limit(500);
    return { data: rows.map(evaluatorDto), nextCursor: null };
  });
}

export function createEvaluator(request: FastifyRequest, body: CreateEvaluatorBody) {
  const auth = authOf(request);
  return tenant(request, async (tx) => {
    const config = await checkConfig(tx, body.kind, body.config);
    let row: EvaluatorRow;
    try {
      [row] = (await tx
        .insert(evaluators)
        .values({
          organizationId: auth.organizationId,
          name: body.name,
          description: body.description ?? null,
          kind: body.kind,
          config,
          threshold: String(
            body.threshold ??
              (config.rule === 'embedding_similarity'
                ? DEFAULT_SIMILARITY_THRESHOLD
                : DEFAULT_THRESHOLD[body.kind]),
          ),
          createdBy: auth.userId,
        })
        .returning()) as [EvaluatorRow];
    } catch (e) {
      if (isUniqueViolation(e)) throw nameTaken(body.name);
      throw e;
    }
    await saveVersion(tx, row, auth.userId);
    const dto = evaluatorDto(row);
    await audit(tx, request, { entityType: 'evaluator', entityId: row.id, action: 'created', after: dto });
    return dto;
  });
}

export function getEvaluator(request: FastifyRequest, id: string) {
  return tenant(request, async (tx) => evaluatorDto(await findEvaluator(tx, id)));
}

/** Every change is saved as the next version; results keep the version that scored them. */
export function updateEvaluator(request: FastifyRequest, id: string, body: UpdateEvaluatorBody) {
  const auth = authOf(request);
  return tenant(request, async (tx) => {
    const before = await findEvaluator(tx, id);
    const config =
      body.config !== undefined ? await checkConfig(tx, before.kind, body.config) : before.config;
    let row: EvaluatorRow;
    try {
      [row] = (await tx
        .update(evaluators)
        .set({
          name: body.name ?? before.name,
          description: body.description !== undefined ? body.description : before.description,
          threshold: body.threshold !== undefined ? String(body.threshold) : before.threshold,
          config,
          version: sql`${evaluators.version} + 1`,
          updatedAt: new Date(),
        })
        .where(eq(evaluators.id, id))
        .returning()) as [EvaluatorRow];
    } catch (e) {
      if (isUniqueViolation(e)) throw nameTaken(body.name ?? before.name);
      throw e;
    }
    await saveVersion(tx, row, auth.userId);
    const dto = evaluatorDto(row);
    await audit(tx, request, {
      entityType: 'evaluator',
      entityId: id,
      action: 'updated',
      before: evaluatorDto(before),
      after: dto,
    });
    return dto;
  });
}

export function deleteEvaluator(request: FastifyRequest, id: string) {
  return tenant(request, async (tx) => {
    const before = await findEvaluator(tx, id);
    const [row] = (await tx
      .update(evaluators)
      .set({ deletedAt: new Date(), updatedAt: new Date() })
      .where(eq(evaluators.id, id))
      .returning()) as [EvaluatorRow];
    await tx.delete(evaluatorAttachments).where(eq(evaluatorAttachments.evaluatorId, id));
    await tx
      .update(evaluationJobs)
      .set({ status: 'skipped', lastError: 'evaluator deleted', updatedAt: new Date() })
      .where(and(eq(evaluationJobs.evaluatorId, id), eq(evaluationJobs.status, 'pending')));
    await audit(tx, request, {
      entityType: 'evaluator',
      entityId: id,
      action: 'deleted',
      before: evaluatorDto(before),
    });
    return evaluatorDto(row);
  });
}

export function listVersions(request: FastifyRequest, id: string) {
  return tenant(request, async (tx) =>
    (await listEvaluatorVersions(tx, id)).map((v) => ({
      evaluatorId: v.evaluatorId,
      name: v.name,
      kind: v.kind,
      config: v.config,
      threshold: Number(v.threshold),
      version: v.version,
      createdAt: v.createdAt.toISOString(),
    })),
  );
}

/**
 * Scores a sample with a saved evaluator without storing a result (the studio's test panel). A judge's
 * call still costs: it goes on the usage ledger and the monthly cost like any judge call.
 */
export async function testEvaluator(
  request: FastifyRequest,
  ports: ScoringPorts,
  id: string,
  sample: EvaluationSample,
) {
  const auth = authOf(request);
  const row = await tenant(request, (tx) => findEvaluator(tx, id));
  const callId = randomUUID();
  const o = await evaluateSample(definitionOf(row), sample, {
    ...ports,
    organizationId: auth.organizationId,
    idempotencyKey: `evaltest:${id}:${callId}`,
  });
  if (row.kind === 'judge') {
    const usage = judgeUsage(o.details);
    await tenant(request, (tx) =>
      recordModelSpend(tx, {
        organizationId: auth.organizationId,
        sourceKey: `evaltest:${callId}`,
        resourceType: 'evaluator_test',
        resourceId: row.id,
        model: usage.model,
        inputTokens: usage.input,
        outputTokens: usage.output,
        costUsd: o.costUsd,
        details: { evaluatorId: row.id, evaluatorName: row.name, evaluatorVersion: row.version },
      }),
    );
  }
  return { ...o, costUsd: Number(o.costUsd) };
}

/**
 * Scores a finished run (or one agent attempt of it) now with the given evaluators, storing each result.
 * Judges are called outside the database transaction; each result is stored with its audit row.
 */
export async function runEvaluations(
  request: FastifyRequest,
  ports: ScoringPorts,
  body: { runId: string; evaluatorIds: string[]; agentExecutionId?: string | undefined },
) {
  const auth = authOf(request);
  const { sample, defs } = await tenant(request, async (tx) => {
    const sample = await loadSample(tx, body.runId, body.agentExecutionId);
    const defs = [];
    for (const id of new Set(body.evaluatorIds)) defs.push(definitionOf(await findEvaluator(tx, id)));
    return { sample, defs };
  });
  const data = [];
  for (const def of defs) {
    const outcome = await evaluateSample(def, sample, {
      ...ports,
      organizationId: auth.organizationId,
      idempotencyKey: `eval:${def.evaluatorId}:${def.version}:${body.runId}:${request.id}`,
    });
    const row = await tenant(request, async (tx) => {
      const r = await insertResult(tx, {
        organizationId: auth.organizationId,
        runId: body.runId,
        agentExecutionId: body.agentExecutionId ?? null,
        def,
        outcome,
        source: 'on_demand',
        userId: auth.userId,
      });
      await audit(tx, request, {
        entityType: 'evaluation_result',
        entityId: r.id,
        action: 'created',
        after: {
          runId: body.runId,
          evaluatorId: def.evaluatorId,
          score: outcome.score,
          passed: outcome.passed,
        },
      });
      return (await resultById(tx, r.id))!;
    });
    data.push(resultDto(row));
  }
  return { data };
}

export function runResults(request: FastifyRequest, runId: string) {
  return tenant(request, async (tx) => ({ data: (await listRunResults(tx, runId)).map(resultDto) }));
}

export function attachmentDto(row: typeof evaluatorAttachments.$inferSelect) {
  return {
    id: row.id,
    evaluatorId: row.evaluatorId,
    workflowId: row.workflowId,
    agentId: row.agentId,
    samplingRate: Number(row.samplingRate),
    createdAt: row.createdAt.toISOString(),
  };
}

export function listAttachments(request: FastifyRequest, id: string) {
  return tenant(request, async (tx) => {
    await findEvaluator(tx, id);
    const rows = await tx
      .select()
      .from(evaluatorAttachments)
      .where(eq(evaluatorAttachments.evaluatorId, id))
      .orderBy(desc(evaluatorAttachments.createdAt));
    return { data: rows.map(attachmentDto) };
  });
}

/** Attaches an evaluator to a workflow or an agent (online evaluation of their finished runs). */
export function attach(
  request: FastifyRequest,
  id: string,
  body: { workflowId?: string | undefined; agentId?: string | undefined; samplingRate: number },
) {
  const auth = authOf(request);
  return tenant(request, async (tx) => {
    await findEvaluator(tx, id);
    const target = body.workflowId
      ? await queryRows(tx, sql`SELECT 1 FROM workflows WHERE id = ${body.workflowId} AND deleted_at IS NULL`)
      : await queryRows(tx, sql`SELECT 1 FROM agents WHERE id = ${body.agentId} AND deleted_at IS NULL`);
    if (!target.length)
      throw notFound(body.workflowId ? 'Workflow' : 'Agent', body.workflowId ?? body.agentId);
    let row: typeof evaluatorAttachments.$inferSelect;
    try {
      [row] = (await tx
        .insert(evaluatorAttachments)
        .values({
          organizationId: auth.organizationId,
          evaluatorId: id,
          workflowId: body.workflowId ?? null,
          agentId: body.agentId ?? null,
          samplingRate: String(body.samplingRate),
          createdBy: auth.userId,
        })
        .returning()) as [typeof evaluatorAttachments.$inferSelect];
    } catch (e) {
      if (isUniqueViolation(e)) throw conflict('This evaluator is already attached there: detach it first');
      throw e;
    }
    const dto = attachmentDto(row);
    await audit(tx, request, {
      entityType: 'evaluator_attachment',
      entityId: row.id,
      action: 'created',
      after: dto,
    });
    return dto;
  });
}

export function detach(request: FastifyRequest, id: string, attachmentId: string) {
  return tenant(request, async (tx) => {
    const [row] = await tx
      .delete(evaluatorAttachments)
      .where(and(eq(evaluatorAttachments.id, attachmentId), eq(evaluatorAttachments.evaluatorId, id)))
      .returning();
    if (!row) throw notFound('Evaluator attachment', attachmentId);
    const dto = attachmentDto(row);
    await audit(tx, request, {
      entityType: 'evaluator_attachment',
      entityId: row.id,
      action: 'deleted',
      before: dto,
    });
    return dto;
  });
}
