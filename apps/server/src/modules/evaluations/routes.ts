import {
  attachEvaluatorBodySchema,
  attachmentSchema,
  createEvaluatorBodySchema,
  evaluationOutcomeSchema,
  evaluationResultSchema,
  evaluationSampleSchema,
  evaluatorSchema,
  evaluatorVersionSchema,
  idParamsSchema,
  listResponse,
  manualScoreBodySchema,
  runEvaluationBodySchema,
  updateEvaluatorBodySchema,
} from '@aiops/contracts';
import { createEmbeddingPort } from '@aiops/providers';
import { z } from 'zod';
import type { AppModule } from '../../module.ts';
import { integrationResolver } from '../integrations/model-port.ts';
import type { ScoringPorts } from './evaluate.ts';
import { addManualScore } from './scores.ts';
import * as service from './service.ts';
import { makeEvaluationEmbedder } from './similarity.ts';

const tags = ['evaluations'];
const results = z.object({ data: z.array(evaluationResultSchema) });

/**
 * Evaluations (issue 16): evaluators (rules and LLM-as-judge, versioned), attaching them to workflows and
 * agents for online scoring, on-demand scoring of a run, and a run's scores. Evaluators use the agent
 * permissions (they are built and run like agents); scores are read with `run:read`; a person's manual
 * score needs `run:approve` (reviewing runs, like approving their steps).
 */
export const evaluationsModule: AppModule = (deps) => async (app) => {
  const ports: ScoringPorts = {
    model: deps.engine.model,
    // The same embedding path as semantic memory and terminology (integrations, outbound-address policy).
    embed: makeEvaluationEmbedder(
      deps.db,
      createEmbeddingPort({
        resolveIntegration: integrationResolver(
          deps.db,
          deps.secrets,
          deps.settings.privateNetworkCategories,
        ),
      }),
    ),
  };
  app.get(
    '/evaluators',
    {
      config: { permission: 'agent:read' },
      schema: { tags, summary: 'List evaluators', response: { 200: listResponse(evaluatorSchema) } },
    },
    async (request) => service.listEvaluators(request),
  );
  app.post(
    '/evaluators',
    {
      config: { permission: 'agent:create' },
      schema: {
        tags,
        summary: 'Create an evaluator (version 1): a rule or an LLM-as-judge rubric',
        body: createEvaluatorBodySchema,
        response: { 201: evaluatorSchema },
      },
    },
    async (request, reply) => reply.status(201).send(await service.createEvaluator(request, request.body)),
  );
  app.get(
    '/evaluators/:id',
    {
      config: { permission: 'agent:read' },
      schema: { tags, summary: 'One evaluator', params: idParamsSchema, response: { 200: evaluatorSchema } },
    },
    async (request) => service.getEvaluator(request, request.params.id),
  );
  app.patch(
    '/evaluators/:id',
    {
      config: { permission: 'agent:update' },
      schema: {
        tags,
        summary: 'Change an evaluator (saved as its next version)',
        params: idParamsSchema,
        body: updateEvaluatorBodySchema,
        response: { 200: evaluatorSchema },
      },
    },
    async (request) => service.updateEvaluator(request, request.params.id, request.body),
  );
  app.delete(
    '/evaluators/:id',
    {
      config: { permission: 'agent:delete' },
      schema: {
        tags,
        summary: 'Delete an evaluator (its results stay; its attachments go)',
        params: idParamsSchema,
        response: { 200: evaluatorSchema },
      },
    },
    async (request) => service.deleteEvaluator(request, request.params.id),
  );
  app.get(
    '/evaluators/:id/versions',
    {
      config: { permission: 'agent:read' },
      schema: {
        tags,
        summary: "An evaluator's versions, newest first",
        params: idParamsSchema,
        response: { 200: z.object({ data: z.array(evaluatorVersionSchema) }) },
      },
    },
    async (request) => ({ data: await service.listVersions(request, request.params.id) }),
  );
  app.post(
    '/evaluators/:id/test',
    {
      config: { permission: 'agent:execute', audit: false },
      schema: {
        tags,
        summary: 'Score a sample with this evaluator (nothing is stored)',
        params: idParamsSchema,
        body: evaluationSampleSchema,
        response: { 200: evaluationOutcomeSchema },
      },
    },
    async (request) => service.testEvaluator(request, ports, request.params.id, request.body),
  );
  app.get(
    '/evaluators/:id/attachments',
    {
      config: { permission: 'agent:read' },
      schema: {
        tags,
        summary: 'Where this evaluator scores runs online',
        params: idParamsSchema,
        response: { 200: z.object({ data: z.array(attachmentSchema) }) },
      },
    },
    async (request) => service.listAttachments(request, request.params.id),
  );
  app.post(
    '/evaluators/:id/attachments',
    {
      config: { permission: 'agent:update' },
      schema: {
        tags,
        summary: 'Attach to a workflow (scores its finished runs) or an agent (scores its attempts)',
        params: idParamsSchema,
        body: attachEvaluatorBodySchema,
        response: { 201: attachmentSchema },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await service.attach(request, request.params.id, request.body)),
  );
  app.delete(
    '/evaluators/:id/attachments/:attachmentId',
    {
      config: { permission: 'agent:update' },
      schema: {
        tags,
        summary: 'Detach',
        params: z.object({ id: z.uuid(), attachmentId: z.uuid() }),
        response: { 200: attachmentSchema },
      },
    },
    async (request) => service.detach(request, request.params.id, request.params.attachmentId),
  );
  app.post(
    '/evaluations/run',
    {
      config: { permission: 'agent:execute' },
      schema: {
        tags,
        summary: 'Score a run (or one agent attempt of it) now with the given evaluators; results are stored',
        body: runEvaluationBodySchema,
        response: { 200: results },
      },
    },
    async (request) => service.runEvaluations(request, ports, request.body),
  );
  app.get(
    '/runs/:id/evaluations',
    {
      config: { permission: 'run:read' },
      schema: {
        tags,
        summary: "A run's scores, newest first",
        params: idParamsSchema,
        response: { 200: results },
      },
    },
    async (request) => service.runResults(request, request.params.id),
  );
  app.post(
    '/runs/:id/scores',
    {
      config: { permission: 'run:approve' },
      schema: {
        tags,
        summary: 'Score a finished run (or one step attempt of it) by hand: 👍/👎 or 0–100 with a comment',
        description:
          'Stored as an evaluation result with source and kind `manual` and the user who scored it. Name a ' +
          'step attempt by `agentExecutionId`, or by `nodeId` (and `attempt`, default the latest).',
        params: idParamsSchema,
        body: manualScoreBodySchema,
        response: { 201: evaluationResultSchema },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await addManualScore(request, request.params.id, request.body)),
  );
};
