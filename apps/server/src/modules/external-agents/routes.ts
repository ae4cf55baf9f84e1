import { listResponse } from '@aiops/contracts';
import { z } from 'zod';
import type { AppModule } from '../../module.ts';
import {
  agentIdParams,
  agentLogSchema,
  heartbeatBodySchema,
  heartbeatResponseSchema,
  keyResponseSchema,
  logBodySchema,
  logListQuerySchema,
  monitorSchema,
  monitorSettingsSchema,
} from './schemas.ts';
import * as service from './service.ts';

const tags = ['external agents'];

/**
 * External agents (issue 17): agents that run elsewhere, with their own key, heartbeats and logs. The
 * heartbeat and log routes authenticate with the agent's key themselves (`public` to the general
 * authenticator, which does not know agent keys); telemetry is not audit-logged, key changes are.
 */
export const externalAgentsModule: AppModule = () => async (app) => {
  app.post(
    '/agents/:id/key',
    {
      config: { permission: 'agent:update' },
      schema: {
        tags,
        summary:
          "Issue (or rotate) an external agent's key and set its heartbeat window; the key is shown once",
        params: agentIdParams,
        body: monitorSettingsSchema.default({}),
        response: { 201: keyResponseSchema },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await service.issueKey(request, request.params.id, request.body)),
  );
  app.patch(
    '/agents/:id/monitor',
    {
      config: { permission: 'agent:update' },
      schema: {
        tags,
        summary: "Change an external agent's heartbeat window",
        params: agentIdParams,
        body: monitorSettingsSchema,
        response: { 200: monitorSchema },
      },
    },
    async (request) => service.updateMonitor(request, request.params.id, request.body),
  );
  app.get(
    '/agents/:id/monitor',
    {
      config: { permission: 'agent:read' },
      schema: {
        tags,
        summary: "An external agent's status (online, offline, error, unknown), last heartbeat and metrics",
        params: agentIdParams,
        response: { 200: monitorSchema },
      },
    },
    async (request) => service.getMonitor(request, request.params.id),
  );
  app.get(
    '/external-agents',
    {
      config: { permission: 'agent:read' },
      schema: {
        tags,
        summary: 'Every external agent with its status (the status board)',
        response: { 200: z.object({ data: z.array(monitorSchema) }) },
      },
    },
    async (request) => service.listMonitors(request),
  );
  app.post(
    '/agents/:id/heartbeat',
    {
      config: { permission: 'public', audit: false },
      schema: {
        tags,
        summary: 'Heartbeat, sent by the agent with its own key (Authorization: Bearer agk_…)',
        params: agentIdParams,
        body: heartbeatBodySchema,
        response: { 200: heartbeatResponseSchema },
      },
    },
    async (request) => service.heartbeat(request, request.params.id, request.body ?? {}),
  );
  app.post(
    '/agents/:id/logs',
    {
      config: { permission: 'public', audit: false },
      schema: {
        tags,
        summary: 'One result of the agent (success, error, warning), sent by the agent with its own key',
        params: agentIdParams,
        body: logBodySchema,
        response: { 201: agentLogSchema },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await service.writeLog(request, request.params.id, request.body)),
  );
  app.get(
    '/agents/:id/logs',
    {
      config: { permission: 'agent:read' },
      schema: {
        tags,
        summary: "An agent's logs, newest first",
        params: agentIdParams,
        querystring: logListQuerySchema,
        response: { 200: listResponse(agentLogSchema) },
      },
    },
    async (request) => service.listLogs(request, request.params.id, request.query),
  );
};
