import {
  createWorkflowBodySchema,
  idParamsSchema,
  listResponse,
  rollbackBodySchema,
  triggerSchema,
  updateWorkflowBodySchema,
  validateBodySchema,
  validateResponseSchema,
  versionParamsSchema,
  WORKFLOW_STATUS_VALUES,
  workflowListQuerySchema,
  workflowSchema,
  workflowSummarySchema,
  workflowVersionSchema,
} from '@aiops/contracts';
import { z } from 'zod';
import type { AppModule } from '../../module.ts';
import * as service from './service.ts';

const tags = ['workflows'];
const YAML_TYPES = ['application/yaml', 'application/x-yaml', 'text/yaml', 'text/x-yaml'];

/** Workflows: definitions saved as immutable versions; validation by node id; import of three formats. */
export const workflowsModule: AppModule = (deps) => async (app) => {
  const { runs } = deps.engine;
  // YAML bodies (import) arrive as strings; everything else stays JSON-only.
  app.addContentTypeParser(YAML_TYPES, { parseAs: 'string' }, (_req, body, done) => done(null, body));

  app.get(
    '/workflows',
    {
      config: { permission: 'workflow:read' },
      schema: {
        tags,
        summary: 'List workflows',
        querystring: workflowListQuerySchema,
        response: { 200: listResponse(workflowSummarySchema) },
      },
    },
    async (request) => service.listWorkflows(request, request.query),
  );
  app.post(
    '/workflows',
    {
      config: { permission: 'workflow:create' },
      schema: {
        tags,
        summary: 'Create a workflow (version 1)',
        body: createWorkflowBodySchema,
        response: { 201: workflowSchema },
      },
    },
    async (request, reply) => reply.status(201).send(await service.createWorkflow(request, request.body)),
  );
  app.post(
    '/workflows/validate',
    {
      config: { permission: 'workflow:read', audit: false },
      schema: {
        tags,
        summary: 'Check a definition without saving it: every problem with its node id and field',
        body: validateBodySchema,
        response: { 200: validateResponseSchema },
      },
    },
    async (request) => service.validate(request.body.definition),
  );
  app.post(
    '/workflows/import',
    {
      config: { permission: 'workflow:create' },
      schema: {
        tags,
        summary:
          "Import a workflow: our format, seed 000's (agents + connections), seed 003's task list, as JSON or YAML, or an n8n workflow export (with a report per n8n node)",
        description: `Send JSON, or YAML with Content-Type ${YAML_TYPES[0]}.`,
        querystring: z.object({
          name: z.string().min(1).max(255).optional(),
          status: z.enum(WORKFLOW_STATUS_VALUES).optional(),
        }),
        response: {
          201: workflowSchema.extend({
            importedFrom: z.enum(['definition', 'seed000', 'tasklist', 'n8n']),
            report: z
              .array(
                z.object({
                  node: z.string(),
                  type: z.string(),
                  status: z.enum(['converted', 'approximated', 'dropped']),
                  to: z.string().nullable(),
                  notes: z.array(z.string()),
                }),
              )
              .optional()
              .describe('n8n imports: what became of each n8n node'),
            triggers: z
              .array(triggerSchema)
              .optional()
              .describe("n8n imports: the triggers created (a webhook's secret is in this answer only)"),
          }),
        },
      },
    },
    async (request, reply) =>
      reply
        .status(201)
        .send(await service.importWorkflow(request, request.body, request.query, deps.secrets)),
  );
  app.get(
    '/workflows/:id',
    {
      config: { permission: 'workflow:read' },
      schema: {
        tags,
        summary: 'One workflow with its current definition',
        params: idParamsSchema,
        response: { 200: workflowSchema },
      },
    },
    async (request) => service.getWorkflow(request, request.params.id),
  );
  app.patch(
    '/workflows/:id',
    {
      config: { permission: 'workflow:update' },
      schema: {
        tags,
        summary:
          'Save a new definition or a new name (the next version) and/or change the status; activating is gated by the promotion policy',
        params: idParamsSchema,
        body: updateWorkflowBodySchema,
        response: { 200: workflowSchema },
      },
    },
    async (request) => service.updateWorkflow(request, deps.db, runs, request.params.id, request.body),
  );
  app.delete(
    '/workflows/:id',
    {
      config: { permission: 'workflow:delete' },
      schema: {
        tags,
        summary: 'Delete a workflow (its runs are kept)',
        params: idParamsSchema,
        response: { 200: workflowSchema },
      },
    },
    async (request) => service.deleteWorkflow(request, runs, request.params.id),
  );
  app.get(
    '/workflows/:id/versions',
    {
      config: { permission: 'workflow:read' },
      schema: {
        tags,
        summary: 'Versions, newest first',
        params: idParamsSchema,
        response: { 200: z.object({ data: z.array(workflowVersionSchema) }) },
      },
    },
    async (request) => ({ data: await service.listVersions(request, request.params.id) }),
  );
  app.get(
    '/workflows/:id/versions/:version',
    {
      config: { permission: 'workflow:read' },
      schema: {
        tags,
        summary: 'One version',
        params: versionParamsSchema,
        response: { 200: workflowVersionSchema },
      },
    },
    async (request) => service.getVersion(request, request.params.id, request.params.version),
  );
  app.post(
    '/workflows/:id/rollback',
    {
      config: { permission: 'workflow:update' },
      schema: {
        tags,
        summary:
          'Make a version current: an old one again (saved as a new version) or a saved candidate; gated by the promotion policy',
        params: idParamsSchema,
        body: rollbackBodySchema,
        response: { 200: workflowSchema },
      },
    },
    async (request) => service.rollback(request, deps.db, runs, request.params.id, request.body),
  );
};
