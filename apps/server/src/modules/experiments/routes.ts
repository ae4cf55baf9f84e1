import {
  compareQuerySchema,
  comparisonSchema,
  createExperimentBodySchema,
  experimentItemSchema,
  experimentSchema,
  idParamsSchema,
  listResponse,
} from '@aiops/contracts';
import { z } from 'zod';
import type { AppModule } from '../../module.ts';
import * as service from './service.ts';

const tags = ['experiments'];

/**
 * Experiments (issue 16): a workflow version (or an agent version, through a one-step harness workflow)
 * run over a dataset version, each item scored by the chosen
 * evaluators; aggregates per evaluator; comparing two item by item. The worker's experiment loop
 * (driver.ts) runs them. Starting one needs `workflow:execute`.
 */
export const experimentsModule: AppModule = () => async (app) => {
  app.get(
    '/experiments',
    {
      config: { permission: 'workflow:read' },
      schema: {
        tags,
        summary: 'List experiments, newest first',
        querystring: z.object({
          workflowId: z.uuid().optional(),
          datasetId: z.uuid().optional(),
          agentId: z.uuid().optional(),
        }),
        response: { 200: listResponse(experimentSchema) },
      },
    },
    async (request) => service.listExperiments(request, request.query),
  );
  app.post(
    '/experiments',
    {
      config: { permission: 'workflow:execute' },
      schema: {
        tags,
        summary:
          'Start an experiment: a workflow version or an agent version over a dataset, scored by evaluators',
        body: createExperimentBodySchema,
        response: { 201: experimentSchema },
      },
    },
    async (request, reply) => reply.status(201).send(await service.createExperiment(request, request.body)),
  );
  app.get(
    '/experiments/compare',
    {
      config: { permission: 'workflow:read' },
      schema: {
        tags,
        summary: 'Compare two experiments on one dataset item by item (regressions flagged)',
        querystring: compareQuerySchema,
        response: { 200: comparisonSchema },
      },
    },
    async (request) => service.compareExperiments(request, request.query.base, request.query.candidate),
  );
  app.get(
    '/experiments/:id',
    {
      config: { permission: 'workflow:read' },
      schema: {
        tags,
        summary: 'One experiment with its progress and aggregates',
        params: idParamsSchema,
        response: { 200: experimentSchema },
      },
    },
    async (request) => service.getExperiment(request, request.params.id),
  );
  app.get(
    '/experiments/:id/items',
    {
      config: { permission: 'workflow:read' },
      schema: {
        tags,
        summary: "An experiment's items: input, expected and actual output, scores, figures",
        params: idParamsSchema,
        response: { 200: z.object({ data: z.array(experimentItemSchema) }) },
      },
    },
    async (request) => service.listExperimentItems(request, request.params.id),
  );
  app.post(
    '/experiments/:id/cancel',
    {
      config: { permission: 'workflow:execute' },
      schema: {
        tags,
        summary: 'Stop starting items (runs already started finish unscored)',
        params: idParamsSchema,
        response: { 200: experimentSchema },
      },
    },
    async (request) => service.cancelExperiment(request, request.params.id),
  );
};
