import { conflict, validationFailed } from '@aiops/core';
import { datasetItems, experimentItems, experiments, type Tx } from '@aiops/db';
import * as engine from '@aiops/engine';
import { and, desc, eq, inArray } from 'drizzle-orm';
import type { FastifyRequest } from 'fastify';
import { authOf } from '../../http/auth.ts';
import { audit, tenant } from '../../http/tenant.ts';
import { agentHarness } from './agent-harness.ts';
import type { ItemScore } from './figures.ts';
import {
  type ExperimentItemRow,
  type ExperimentRow,
  experimentDto,
  experimentItemDto,
  findExperiment,
  insertExperiment,
  itemsOf,
} from './repo.ts';

export async function loadExperiment(tx: Tx, id: string) {
  const row = await findExperiment(tx, id);
  return experimentDto(row, await itemsOf(tx, id));
}

export function listExperiments(
  request: FastifyRequest,
  q: { workflowId?: string | undefined; datasetId?: string | undefined; agentId?: string | undefined },
) {
  return tenant(request, async (tx) => {
    const rows = await tx
      .select()
      .from(experiments)
      .where(
        and(
          q.workflowId ? eq(experiments.workflowId, q.workflowId) : undefined,
          q.datasetId ? eq(experiments.datasetId, q.datasetId) : undefined,
          q.agentId ? eq(experiments.agentId, q.agentId) : undefined,
        ),
      )
      .orderBy(desc(experiments.createdAt), desc(experiments.id))
      .limit(200);
    const all = rows.length
      ? await tx
          .select()
          .from(experimentItems)
          .where(
            inArray(
              experimentItems.experimentId,
              rows.map((r) => r.id),
            ),
          )
      : [];
    const by = new Map<string, ExperimentItemRow[]>();
    for (const i of all) by.set(i.experimentId, [...(by.get(i.experimentId) ?? []), i]);
    return { data: rows.map((r) => experimentDto(r, by.get(r.id) ?? [])), nextCursor: null };
  });
}

export function createExperiment(
  request: FastifyRequest,
  body: {
    name?: string | undefined;
    datasetId: string;
    datasetVersion?: number | undefined;
    workflowId?: string | undefined;
    workflowVersion?: number | undefined;
    agentId?: string | undefined;
    agentVersion?: number | undefined;
    evaluatorIds: string[];
    parallelism: number;
  },
) {
  const auth = authOf(request);
  return tenant(request, async (tx) => {
    let target: { workflowId: string; workflowVersion: number };
    let agent: { id: string; version: number; name: string } | undefined;
    if (body.agentId) {
      const h = await agentHarness(tx, auth.organizationId, auth.userId, body.agentId, body.agentVersion);
      target = h;
      agent = { id: body.agentId, version: h.agentVersion, name: h.agentName };
      if (h.saved)
        await audit(tx, request, {
          entityType: 'workflow',
          entityId: h.workflowId,
          action: h.saved === 'workflow' ? 'created' : 'candidate_saved',
          after: {
            harnessOf: { agentId: body.agentId, agentVersion: h.agentVersion },
            version: h.workflowVersion,
          },
        });
    } else {
      // The body schema guarantees one of the two.
      const wf = await engine.getWorkflow(tx, body.workflowId!);
      target = { workflowId: wf.id, workflowVersion: body.workflowVersion ?? wf.version };
    }
    const row = await insertExperiment(tx, {
      organizationId: auth.organizationId,
      userId: auth.userId,
      name: body.name,
      datasetId: body.datasetId,
      datasetVersion: body.datasetVersion,
      ...target,
      agent,
      evaluatorIds: body.evaluatorIds,
      parallelism: body.parallelism,
      purpose: 'manual',
    });
    const dto = await loadExperiment(tx, row.id);
    await audit(tx, request, {
      entityType: 'experiment',
      entityId: row.id,
      action: 'created',
      after: {
        name: dto.name,
        workflowVersion: dto.workflowVersion,
        datasetVersion: dto.datasetVersion,
        ...(agent ? { agentId: agent.id, agentVersion: agent.version } : {}),
      },
    });
    return dto;
  });
}

export function getExperiment(request: FastifyRequest, id: string) {
  return tenant(request, (tx) => loadExperiment(tx, id));
}

async function itemsWithData(tx: Tx, row: ExperimentRow) {
  const items = await itemsOf(tx, row.id);
  const data = items.length
    ? await tx
        .select({
          id: datasetItems.id,
          input: datasetItems.input,
          expectedOutput: datasetItems.expectedOutput,
        })
        .from(datasetItems)
        .where(
          inArray(
            datasetItems.id,
            items.map((i) => i.datasetItemId),
          ),
        )
    : [];
  const by = new Map(data.map((d) => [d.id, d]));
  return items.map((i) => experimentItemDto(i, by.get(i.datasetItemId)));
}

export function listExperimentItems(request: FastifyRequest, id: string) {
  return tenant(request, async (tx) => ({ data: await itemsWithData(tx, await findExperiment(tx, id)) }));
}

/** Stops starting items; runs already started finish on their own and are not scored. */
export function cancelExperiment(request: FastifyRequest, id: string) {
  return tenant(request, async (tx) => {
    const before = await findExperiment(tx, id);
    if (before.status !== 'running')
      throw conflict(`Experiment ${id} is ${before.status}: only a running experiment can be cancelled`);
    await tx
      .update(experiments)
      .set({ status: 'cancelled', completedAt: new Date(), updatedAt: new Date() })
      .where(eq(experiments.id, id));
    await audit(tx, request, { entityType: 'experiment', entityId: id, action: 'cancelled' });
    return loadExperiment(tx, id);
  });
}

/**
 * Two experiments on the same dataset, item by item: an item regressed when an evaluator's score fell or
 * an evaluator it passed now fails; improved the other way round.
 */
export function compareExperiments(request: FastifyRequest, baseId: string, candidateId: string) {
  return tenant(request, async (tx) => {
    const baseRow = await findExperiment(tx, baseId);
    const candRow = await findExperiment(tx, candidateId);
    if (baseRow.datasetId !== candRow.datasetId)
      throw validationFailed(
        'The two experiments ran on different datasets: compare experiments on one dataset',
        [{ path: 'query.candidate', message: 'must be an experiment on the same dataset as base' }],
      );
    const [base, candidate] = [await loadExperiment(tx, baseId), await loadExperiment(tx, candidateId)];
    const baseItems = await itemsWithData(tx, baseRow);
    const candItems = new Map((await itemsWithData(tx, candRow)).map((i) => [i.datasetItemId, i]));
    const names = [...new Set([...base.evaluators, ...candidate.evaluators].map((e) => e.name))];
    const score = (scores: ItemScore[] | undefined, name: string) => scores?.find((s) => s.name === name);
    const items = baseItems
      .filter((b) => candItems.has(b.datasetItemId))
      .map((b) => {
        const c = candItems.get(b.datasetItemId)!;
        const scores = names.map((name) => {
          const bs = score(b.status === 'scored' ? b.scores : undefined, name);
          const cs = score(c.status === 'scored' ? c.scores : undefined, name);
          return {
            name,
            base: bs?.score ?? null,
            candidate: cs?.score ?? null,
            basePassed: bs ? bs.passed : null,
            candidatePassed: cs ? cs.passed : null,
          };
        });
        const both = scores.filter((s) => s.basePassed !== null && s.candidatePassed !== null);
        const regression = both.some(
          (s) =>
            (s.basePassed && !s.candidatePassed) ||
            (s.base !== null && s.candidate !== null && s.candidate < s.base),
        );
        const improvement = both.some(
          (s) =>
            (!s.basePassed && s.candidatePassed) ||
            (s.base !== null && s.candidate !== null && s.candidate > s.base),
        );
        return {
          datasetItemId: b.datasetItemId,
          input: b.input,
          expectedOutput: b.expectedOutput,
          baseOutput: b.output,
          candidateOutput: c.output,
          scores,
          regression,
          improvement: improvement && !regression,
        };
      });
    const aggregates = names.map((name) => {
      const b = base.aggregates.find((a) => a.name === name);
      const c = candidate.aggregates.find((a) => a.name === name);
      const bm = b?.mean ?? null;
      const cm = c?.mean ?? null;
      return {
        name,
        baseMean: bm,
        candidateMean: cm,
        basePassRate: b?.passRate ?? null,
        candidatePassRate: c?.passRate ?? null,
        delta: bm !== null && cm !== null ? Math.round((cm - bm) * 100) / 100 : null,
      };
    });
    return {
      base,
      candidate,
      aggregates,
      items,
      regressions: items.filter((i) => i.regression).length,
      improvements: items.filter((i) => i.improvement).length,
    };
  });
}
