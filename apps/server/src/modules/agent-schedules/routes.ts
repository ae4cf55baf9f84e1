import type { AppModule } from '../../module.ts';
import { agentIdParams, agentScheduleSchema, putScheduleBodySchema } from './schemas.ts';
import * as service from './service.ts';

const tags = ['external agents'];

/**
 * Agent schedules (seed 004 `schedule`, `webhook_url`): an agent's cron in a time zone. On every due time
 * the worker POSTs a Standard Webhooks-signed request to an external agent's webhook_url (calls.ts), or
 * starts a run of an llm or code agent with the schedule's input (runs.ts).
 */
export const agentSchedulesModule: AppModule = (deps) => async (app) => {
  app.get(
    '/agents/:id/schedule',
    {
      config: { permission: 'agent:read' },
      schema: {
        tags,
        summary: "An agent's schedule, its next five due times and its latest scheduled calls",
        params: agentIdParams,
        response: { 200: agentScheduleSchema },
      },
    },
    async (request) => service.getSchedule(request, request.params.id),
  );
  app.put(
    '/agents/:id/schedule',
    {
      config: { permission: 'agent:update' },
      schema: {
        tags,
        summary:
          "Set an agent's schedule (cron, time zone, run input; external agents: webhook_url, signing secret shown once)",
        params: agentIdParams,
        body: putScheduleBodySchema,
        response: { 200: agentScheduleSchema },
      },
    },
    async (request) => service.putSchedule(request, deps.secrets, request.params.id, request.body),
  );
  app.delete(
    '/agents/:id/schedule',
    {
      config: { permission: 'agent:update' },
      schema: {
        tags,
        summary: "Remove an agent's schedule (its call log stays)",
        params: agentIdParams,
        response: { 200: agentScheduleSchema },
      },
    },
    async (request) => service.deleteSchedule(request, request.params.id),
  );
  app.post(
    '/agents/:id/schedule/secret',
    {
      config: { permission: 'agent:update' },
      schema: {
        tags,
        summary:
          "Rotate an external agent's signing secret (scheduled calls and workflow steps; the new one is shown once)",
        params: agentIdParams,
        response: { 200: agentScheduleSchema },
      },
    },
    async (request) => service.rotateScheduleSecret(request, deps.secrets, request.params.id),
  );
};
