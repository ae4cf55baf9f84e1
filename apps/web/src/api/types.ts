/**
 * The API's types, inferred from the Zod schemas of @aiops/contracts (type-only imports: no schema code
 * reaches the browser bundle). Never copy a shape by hand here.
 */
import type {
  agentSchema,
  agentVersionSchema,
  analyticsOverviewSchema,
  apiKeySchema,
  auditLogSchema,
  createAgentBodySchema,
  createApiKeyResponseSchema,
  definitionIssueSchema,
  invitationSchema,
  memberSchema,
  meResponseSchema,
  mfaActivateResponseSchema,
  mfaEnrolResponseSchema,
  runDetailSchema,
  runEventSchema,
  runSchema,
  sessionResponseSchema,
  stepSchema,
  tryAgentResponseSchema,
  validateResponseSchema,
  workflowSchema,
  workflowSummarySchema,
  workflowVersionSchema,
} from '@aiops/contracts';
import type { z } from 'zod';

export type {
  ApprovalNode,
  Connection,
  NodeType,
  Permission,
  Role,
  WorkflowDefinition,
  WorkflowNode,
} from '@aiops/contracts';

export type Me = z.infer<typeof meResponseSchema>;
export type Session = z.infer<typeof sessionResponseSchema>;
export type MfaEnrolment = z.infer<typeof mfaEnrolResponseSchema>;
export type MfaActivation = z.infer<typeof mfaActivateResponseSchema>;
export type Agent = z.infer<typeof agentSchema>;
export type AgentVersion = z.infer<typeof agentVersionSchema>;
export type AgentInput = z.input<typeof createAgentBodySchema>;
export type TryResult = z.infer<typeof tryAgentResponseSchema>;
export type Workflow = z.infer<typeof workflowSchema>;
export type WorkflowSummary = z.infer<typeof workflowSummarySchema>;
export type WorkflowVersion = z.infer<typeof workflowVersionSchema>;
export type ValidateResult = z.infer<typeof validateResponseSchema>;
export type DefinitionIssue = z.infer<typeof definitionIssueSchema>;
export type Run = z.infer<typeof runSchema>;
export type RunDetail = z.infer<typeof runDetailSchema>;
export type RunStep = z.infer<typeof stepSchema>;
export type RunEvent = z.infer<typeof runEventSchema>;
export type RunStatus = Run['status'];
export type StepStatus = RunStep['status'];
export type Member = z.infer<typeof memberSchema>;
export type Invitation = z.infer<typeof invitationSchema>;
export type ApiKey = z.infer<typeof apiKeySchema>;
export type CreatedApiKey = z.infer<typeof createApiKeyResponseSchema>;
export type AuditLog = z.infer<typeof auditLogSchema>;
export type AnalyticsOverview = z.infer<typeof analyticsOverviewSchema>;
export interface Page<T> {
  data: T[];
  nextCursor: string | null;
}
