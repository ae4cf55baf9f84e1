import {
  approveBodySchema,
  idParamsSchema,
  listResponse,
  rerunBodySchema,
  runDetailSchema,
  runListQuerySchema,
  runSchema,
  startRunBodySchema,
  stepParamsSchema,
} from '@aiops/contracts';
import { z } from 'zod';
import type { AppModule } from '../../module.ts';
import * as service from './service.ts';

const tags = ['runs'];

/** Runs: start (optionally waiting), list, inspect with every step attempt, follow as events, cancel. */
export const runsModule: AppModule = (deps) => async (app) => {
  const e = deps.engine;
  app.post(
    '/workflows/:id/runs',
    {
      // The run row records who started it, with what input; it is the audit record of a start.
      config: { permission: 'workflow:execute', audit: false },
      schema: {
        tags,
        summary: 'Start a run',
        description:
          'With `wait`, answers 201 and the finished run if it finishes within that many seconds, else 202. ' +
          'An `Idempotency-Key` header makes a repeat return the first run.',
        params: idParamsSchema,
        body: startRunBodySchema,
        response: { 201: runSchema, 202: runSchema },
      },
    },
    async (request, reply) => service.startRun(request, reply, e, request.params.id, request.body),
  );
  app.get(
    '/runs',
    {
      config: { permission: 'run:read' },
      schema: {
        tags,
        summary: 'List runs, newest first',
        querystring: runListQuerySchema,
        response: { 200: listResponse(runSchema) },
      },
    },
    async (request) => service.listRuns(request, request.query),
  );
  app.get(
    '/runs/:id',
    {
      config: { permission: 'run:read' },
      schema: {
        tags,
        summary: 'A run with its steps and every attempt',
        params: idParamsSchema,
        response: { 200: runDetailSchema },
      },
    },
    async (request) => service.getRun(request, e, request.params.id),
  );
  app.get(
    '/runs/:id/events',
    {
      config: { permission: 'run:read' },
      schema: {
        tags,
        summary: 'Server-Sent Events: what happened so far, then each change until the run ends',
        description:
          'Each event: `id`, `event` (run.* or step.*), `data` (a RunEvent as JSON). With `logs=true`, the ' +
          "run's log lines too, as `log` events (a live tail).",
        params: idParamsSchema,
        querystring: z.object({ logs: z.stringbool().optional() }),
      },
    },
    async (request, reply) =>
      service.streamEvents(request, reply, e, request.params.id, request.query.logs === true),
  );
  app.post(
    '/runs/:id/cancel',
    {
      config: { permission: 'run:cancel' },
      schema: {
        tags,
        summary: 'Cancel a run: steps in flight are aborted, nothing new starts',
        params: idParamsSchema,
        response: { 200: runSchema },
      },
    },
    async (request) => service.cancelRun(request, request.params.id),
  );
  app.post(
    '/runs/:id/pause',
    {
      config: { permission: 'run:cancel' },
      schema: {
        tags,
        summary: 'Pause a run: steps in flight finish, nothing new starts until resumed',
        params: idParamsSchema,
        response: { 200: runSchema },
      },
    },
    async (request) => service.pauseRun(request, request.params.id),
  );
  app.post(
    '/runs/:id/resume',
    {
      config: { permission: 'run:cancel' },
      schema: { tags, summary: 'Resume a paused run', params: idParamsSchema, response: { 200: runSchema } },
    },
    async (request) => service.resumeRun(request, request.params.id),
  );
  app.post(
    '/runs/:id/retry',
    {
      config: { permission: 'workflow:execute' },
      schema: {
        tags,
        summary:
          'Retry a failed or timed-out run from its failed steps, keeping completed outputs (up to max_retries)',
        params: idParamsSchema,
        response: { 200: runSchema },
      },
    },
    async (request) => service.retryRun(request, e, request.params.id),
  );
  app.post(
    '/runs/:id/rerun',
    {
      config: { permission: 'workflow:execute' },
      schema: {
        tags,
        summary:
          'A new run that reuses this run’s outputs upstream of a step and runs that step and everything after it',
        params: idParamsSchema,
        body: rerunBodySchema,
        response: { 201: runSchema },
      },
    },
    async (request, reply) => service.rerun(request, reply, e, request.params.id, request.body),
  );
  app.post(
    '/runs/:id/steps/:stepId/approve',
    {
      config: { permission: 'run:approve' },
      schema: {
        tags,
        summary: 'Approve or reject a step waiting for an approval',
        params: stepParamsSchema,
        body: approveBodySchema,
        response: {
          200: z.object({ run: runSchema, nodeId: z.string(), decision: z.record(z.string(), z.unknown()) }),
        },
      },
    },
    async (request) => service.approveStep(request, request.params.id, request.params.stepId, request.body),
  );
};
