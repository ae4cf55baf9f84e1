import { type PromotionPolicy, promotionPolicySchema } from '@aiops/contracts';
import { AppError, forbidden, notFound } from '@aiops/core';
import { type Database, evaluators, experiments, type Tx } from '@aiops/db';
import { and, desc, eq, inArray, isNull, sql } from 'drizzle-orm';
import type { FastifyRequest } from 'fastify';
import { authOf } from '../../http/auth.ts';
import { tenant } from '../../http/tenant.ts';
import { findDatasetByRef } from '../datasets/service.ts';
import { shortfalls } from './figures.ts';
import { type ExperimentRow, evaluatorsOf, insertExperiment } from './repo.ts';
import { loadExperiment } from './service.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The policy that guards a workflow: the current definition's, else the promoted version's. */
export function policyOf(...definitions: unknown[]): PromotionPolicy | undefined {
  for (const d of definitions) {
    const p = (d as { promotion?: unknown } | null | undefined)?.promotion;
    if (p === undefined) continue;
    const parsed = promotionPolicySchema.safeParse(p);
    if (parsed.success) return parsed.data;
  }
  return undefined;
}

async function resolveEvaluators(tx: Tx, refs: string[]): Promise<string[]> {
  const ids: string[] = [];
  for (const ref of refs) {
    const [row] = await tx
      .select({ id: evaluators.id })
      .from(evaluators)
      .where(
        and(UUID.test(ref) ? eq(evaluators.id, ref) : eq(evaluators.name, ref), isNull(evaluators.deletedAt)),
      );
    if (!row) throw notFound('Evaluator named by the promotion policy', ref);
    ids.push(row.id);
  }
  return ids;
}

/**
 * The experiment that decides a promotion: the newest one on this workflow version, the dataset's current
 * version and the evaluators' current versions (reused), else a new one (purpose `promotion`).
 */
async function gateExperiment(
  tx: Tx,
  org: string,
  userId: string | null,
  workflowId: string,
  version: number,
  policy: PromotionPolicy,
): Promise<ExperimentRow> {
  const ds = await findDatasetByRef(tx, policy.dataset);
  const evIds = await resolveEvaluators(tx, policy.evaluators);
  const current = await tx
    .select({ id: evaluators.id, version: evaluators.version })
    .from(evaluators)
    .where(inArray(evaluators.id, evIds));
  const want = new Set(current.map((e) => `${e.id}:${e.version}`));
  const candidates = await tx
    .select()
    .from(experiments)
    .where(
      and(
        eq(experiments.workflowId, workflowId),
        eq(experiments.workflowVersion, version),
        eq(experiments.datasetId, ds.id),
        eq(experiments.datasetVersion, ds.version),
        sql`${experiments.status} <> 'cancelled'`,
      ),
    )
    .orderBy(desc(experiments.createdAt))
    .limit(20);
  const reuse = candidates.find((x) => {
    const have = evaluatorsOf(x).map((e) => `${e.evaluatorId}:${e.version}`);
    return have.length === want.size && have.every((k) => want.has(k));
  });
  if (reuse) return reuse;
  return insertExperiment(tx, {
    organizationId: org,
    userId,
    name: `promotion check · v${version}`,
    datasetId: ds.id,
    datasetVersion: ds.version,
    workflowId,
    workflowVersion: version,
    evaluatorIds: evIds,
    parallelism: 4,
    purpose: 'promotion',
  });
}

export interface GateOutcome {
  experimentId: string;
  result: 'passed' | 'overridden';
  /** The experiment's figures against the bar (the caller audits an override with them). */
  figures: Record<string, unknown>;
}

/**
 * The promotion gate: runs (or reuses) an experiment on `version` and waits for it up to `waitSeconds`.
 * Still running: 409 `promotion_pending` (retry to reuse it). Short of the bar: 409 `promotion_blocked`
 * with the figures, unless an owner gives an override reason, which is audited with those figures.
 */
export async function checkPromotion(
  db: Database,
  request: FastifyRequest,
  g: {
    workflowId: string;
    version: number;
    policy: PromotionPolicy;
    override?: { reason: string } | undefined;
    waitSeconds?: number | undefined;
  },
): Promise<GateOutcome> {
  const auth = authOf(request);
  const started = await tenant(request, (tx) =>
    gateExperiment(tx, auth.organizationId, auth.userId, g.workflowId, g.version, g.policy),
  );
  const deadline = Date.now() + (g.waitSeconds ?? 30) * 1000;
  let exp = await db.withTenant(auth.organizationId, (tx) => loadExperiment(tx, started.id));
  while (exp.status === 'running' && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 250));
    exp = await db.withTenant(auth.organizationId, (tx) => loadExperiment(tx, started.id));
  }
  const bar = { minScore: g.policy.minScore, minPassRate: g.policy.minPassRate };
  if (exp.status === 'running')
    throw new AppError(
      409,
      'promotion_pending',
      `The promotion check of version ${g.version} is still running (${exp.doneItems}/${exp.totalItems} items): try again when experiment ${exp.id} completes`,
      {
        retryable: true,
        details: {
          experimentId: exp.id,
          version: g.version,
          doneItems: exp.doneItems,
          totalItems: exp.totalItems,
        },
      },
    );
  const short =
    exp.status === 'completed'
      ? shortfalls(exp.aggregates, bar)
      : [{ evaluator: '*', figure: 'mean' as const, value: null, required: bar.minScore ?? 0 }];
  const figures = {
    experimentId: exp.id,
    version: g.version,
    dataset: g.policy.dataset,
    minScore: g.policy.minScore ?? null,
    minPassRate: g.policy.minPassRate ?? null,
    aggregates: exp.aggregates,
    shortfalls: short,
  };
  if (!short.length) return { experimentId: exp.id, result: 'passed', figures };
  if (!g.override)
    throw new AppError(
      409,
      'promotion_blocked',
      `Version ${g.version} falls short of the promotion gate: ${short
        .map((s) => `${s.evaluator} ${s.figure} ${s.value ?? 'none'} < ${s.required}`)
        .join('; ')}. Improve it, or an owner may override with a reason`,
      { details: figures },
    );
  if (auth.role !== 'owner') throw forbidden('Only an owner may override the promotion gate', figures);
  return { experimentId: exp.id, result: 'overridden', figures };
}
