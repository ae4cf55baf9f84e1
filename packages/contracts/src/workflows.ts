import { z } from 'zod';
import { versionNumber, versionParam } from './numbers.ts';
import { definitionIssueSchema } from './workflow.ts';

export const WORKFLOW_STATUS_VALUES = ['draft', 'active', 'paused', 'archived'] as const;

export const createWorkflowBodySchema = z
  .object({
    definition: z
      .record(z.string(), z.unknown())
      .describe('the workflow definition (see WorkflowDefinition)'),
    status: z.enum(WORKFLOW_STATUS_VALUES).default('draft'),
    changeNote: z.string().max(1000).optional(),
  })
  .meta({ id: 'CreateWorkflow' });

export const updateWorkflowBodySchema = z
  .object({
    definition: z
      .record(z.string(), z.unknown())
      .optional()
      .describe('a new definition: saved as the next version'),
    name: z
      .string()
      .trim()
      .min(1)
      .max(255)
      .optional()
      .describe(
        'a new name: saved as the next version (the current definition with this name); no definition needed',
      ),
    status: z.enum(WORKFLOW_STATUS_VALUES).optional(),
    changeNote: z.string().max(1000).optional(),
    promotionOverride: z
      .object({ reason: z.string().trim().min(3).max(2_000) })
      .optional()
      .describe("an owner's recorded reason to promote a version that falls short of the promotion gate"),
    promotionWaitSeconds: z
      .number()
      .int()
      .min(0)
      .max(120)
      .optional()
      .describe('how long to wait for the promotion experiment before answering 409 promotion_pending'),
  })
  .refine(
    (b) => b.definition !== undefined || b.status !== undefined || b.name !== undefined,
    'send definition, name and/or status',
  )
  .meta({ id: 'UpdateWorkflow' });

export const workflowSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    description: z.string().nullable(),
    status: z.enum(WORKFLOW_STATUS_VALUES),
    version: z.number().int().describe('the current version'),
    definition: z.record(z.string(), z.unknown()),
    executionTimeout: z.number().int().describe('seconds'),
    maxRetries: z.number().int(),
    analytics: z.object({
      totalExecutions: z.number().int(),
      successfulExecutions: z.number().int(),
      failedExecutions: z.number().int(),
      averageDurationMs: z.number().nullable(),
      averageCost: z.number().nullable(),
      lastRunAt: z.string().nullable(),
      lastRunStatus: z.string().nullable(),
    }),
    createdBy: z.string().nullable(),
    updatedBy: z.string().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Workflow' });
export type WorkflowDto = z.infer<typeof workflowSchema>;

export const workflowSummarySchema = workflowSchema
  .omit({ definition: true })
  .meta({ id: 'WorkflowSummary' });

export const workflowVersionSchema = z
  .object({
    version: z.number().int(),
    name: z.string(),
    description: z.string().nullable(),
    definition: z.record(z.string(), z.unknown()),
    changeNote: z.string().nullable(),
    createdBy: z.string().nullable(),
    createdAt: z.string(),
  })
  .meta({ id: 'WorkflowVersion' });

export const workflowListQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().min(1).max(500).optional(),
  q: z.string().max(255).optional().describe('fuzzy match on the name'),
  status: z.enum(WORKFLOW_STATUS_VALUES).optional(),
});

export const versionParamsSchema = z.object({ id: z.uuid(), version: versionParam() });
export const rollbackBodySchema = z.object({
  version: versionNumber(),
  promotionOverride: z.object({ reason: z.string().trim().min(3).max(2_000) }).optional(),
  promotionWaitSeconds: z.number().int().min(0).max(120).optional(),
});

export const validateBodySchema = z.object({ definition: z.unknown() });
export const validateResponseSchema = z.object({
  valid: z.boolean(),
  issues: z.array(definitionIssueSchema),
});
