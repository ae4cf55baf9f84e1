/**
 * The API's types, from the SDK's schemas and route types (generated from the OpenAPI document, so they are
 * what `call(sdk.api.GET(...))` returns): a change of the server's schema breaks the studio's typecheck.
 * Never copy a shape by hand here. The workflow definition's node types and the permission and role names
 * come from @aiops/contracts (type-only imports: no schema code reaches the browser bundle).
 *
 * The OpenAPI document types a workflow's `definition` as an open object: the editor reads it as the
 * contracts' WorkflowDefinition (the server validated it on the way in).
 */

import type { paths, Schemas } from '@aiops/sdk';

export type {
  ApprovalNode,
  Connection,
  NodeType,
  Permission,
  Role,
  WorkflowDefinition,
  WorkflowNode,
} from '@aiops/contracts';

/** The JSON body of a response or request in the SDK's `paths` (routes whose schemas are inline). */
export type JsonContent<R> = R extends { content: { 'application/json': infer B } } ? B : never;
export type Agent = Schemas['Agent'];
export type Workflow = Schemas['Workflow'];
export type WorkflowSummary = Schemas['WorkflowSummary'];
export type WorkflowVersion = Schemas['WorkflowVersion'];
export type Run = Schemas['Run'];
export type RunDetail = Schemas['RunDetail'];
export type RunStep = Schemas['RunStep'];
export type RunEvent = Schemas['RunEvent'];
export type RunStatus = Run['status'];
export type StepStatus = RunStep['status'];
export type Me = Schemas['Me'];
export type AgentInput = Schemas['CreateAgentInput'];
export type DefinitionIssue = JsonContent<
  paths['/api/v1/workflows/validate']['post']['responses'][200]
>['issues'][number];
export type Member = Schemas['Member'];
export type Seats = Schemas['Seats'];
export type ApiKey = Schemas['ApiKey'];
export type AuditLog = Schemas['AuditLog'];
export type AnalyticsOverview = Schemas['AnalyticsOverview'];
export type AgentMetrics = Schemas['AgentMetrics'];
export type AdminConfig = JsonContent<paths['/api/v1/admin/config']['get']['responses'][200]>;
export type AdminConfigUpdate = JsonContent<paths['/api/v1/admin/config']['put']['requestBody']>;
export type OrganizationFeatures = JsonContent<
  paths['/api/v1/organization/features']['get']['responses'][200]
>;
export type Integration = Schemas['Integration'];
export type IntegrationInput = Schemas['CreateIntegrationInput'];
export type IntegrationUpdate = Schemas['UpdateIntegrationInput'];
export type IntegrationTestResult = Schemas['IntegrationTestResult'];
export type Organization = Schemas['Organization'];
export type OrganizationPatch = JsonContent<paths['/api/v1/organization']['patch']['requestBody']>;
export type CostReport = Schemas['CostReport'];
export type PriceOverrideInput = Schemas['CreatePriceOverrideInput'];
export type { IntegrationProvider } from '@aiops/contracts';
export interface Page<T> {
  data: T[];
  nextCursor: string | null;
}
export type BillingAccount = Schemas['BillingAccount'];
export type BillingSettings = JsonContent<paths['/api/v1/billing/settings']['patch']['requestBody']>;
export type UsageReport = Schemas['UsageReport'];
export type Trigger = JsonContent<
  paths['/api/v1/workflows/{id}/triggers']['get']['responses'][200]
>['data'][number];
export type EventSink = JsonContent<paths['/api/v1/event-sinks']['get']['responses'][200]>['data'][number];
export type SyncTarget = JsonContent<paths['/api/v1/sync-targets/{id}']['get']['responses'][200]>;
export type Span = Trace['spans'][number];
export type Trace = JsonContent<paths['/api/v1/traces/{traceId}']['get']['responses'][200]>;
