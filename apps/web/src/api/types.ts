/**
 * The API's types, inferred from the Zod schemas of @aiops/contracts (type-only imports: no schema code
 * reaches the browser bundle). Never copy a shape by hand here.
 */
import type {
  agentMetricsSchema,
  agentSchema,
  agentVersionSchema,
  analyticsOverviewSchema,
  apiKeySchema,
  auditLogSchema,
  authSessionSchema,
  billingAccountSchema,
  billingSettingsSchema,
  costReportSchema,
  createAgentBodySchema,
  createApiKeyResponseSchema,
  createIntegrationBodySchema,
  createPriceOverrideBodySchema,
  definitionIssueSchema,
  deliverySchema,
  eventSchema,
  firingSchema,
  integrationSchema,
  invitationSchema,
  invoiceSchema,
  memberSchema,
  meResponseSchema,
  mfaActivateResponseSchema,
  mfaEnrolResponseSchema,
  organizationSchema,
  patchOrganizationBodySchema,
  planSchema,
  priceListSchema,
  priceOverrideSchema,
  retentionSettingsSchema,
  runDetailSchema,
  runEventSchema,
  runSchema,
  sessionResponseSchema,
  sinkSchema,
  stepSchema,
  testIntegrationResponseSchema,
  triggerSchema,
  tryAgentResponseSchema,
  updateIntegrationBodySchema,
  usageReportSchema,
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
export type AuthSession = z.infer<typeof authSessionSchema>;
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
export type AgentMetrics = z.infer<typeof agentMetricsSchema>;
export type RetentionSettings = z.infer<typeof retentionSettingsSchema>;
export type Integration = z.infer<typeof integrationSchema>;
export type IntegrationInput = z.input<typeof createIntegrationBodySchema>;
export type IntegrationUpdate = z.input<typeof updateIntegrationBodySchema>;
export type IntegrationTestResult = z.infer<typeof testIntegrationResponseSchema>;
export type Organization = z.infer<typeof organizationSchema>;
export type OrganizationPatch = z.input<typeof patchOrganizationBodySchema>;
export type CostReport = z.infer<typeof costReportSchema>;
export type PriceList = z.infer<typeof priceListSchema>;
export type PriceOverride = z.infer<typeof priceOverrideSchema>;
export type PriceOverrideInput = z.input<typeof createPriceOverrideBodySchema>;
export type { IntegrationProvider } from '@aiops/contracts';
export interface Page<T> {
  data: T[];
  nextCursor: string | null;
}
export type BillingAccount = z.infer<typeof billingAccountSchema>;
export type BillingSettings = z.input<typeof billingSettingsSchema>;
export type Plan = z.infer<typeof planSchema>;
export type Invoice = z.infer<typeof invoiceSchema>;
export type UsageReport = z.infer<typeof usageReportSchema>;
export type Trigger = z.infer<typeof triggerSchema>;
export type Firing = z.infer<typeof firingSchema>;
export type ReceivedEvent = z.infer<typeof eventSchema>;
export type EventSink = z.infer<typeof sinkSchema>;
export type Delivery = z.infer<typeof deliverySchema>;
