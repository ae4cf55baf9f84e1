export { ensureAgentWebhookSecret, newAgentWebhookSecret } from './agent-webhook-secret.ts';
export {
  type AgentRow,
  type AgentVersionRow,
  configurationOf,
  createAgent,
  deleteAgent,
  fieldsOf,
  getAgent,
  listAgentVersions,
  updateAgent,
} from './agents.ts';
export { Catalog, type CompiledVersion, compileVersion } from './catalog.ts';
export { type CodeSource, hostAllowed, runCodeSource, sandboxFetch } from './code/run-code.ts';
export {
  type CodeLog,
  type CodeRunRequest,
  type CodeRunResult,
  CodeSandbox,
  MAX_CODE_ARGS_CHARS,
} from './code/sandbox.ts';
export { type Decision, decideApproval, pauseRun, resumeRun, retryRun, waitingApprovals } from './control.ts';
export { DEFAULT_GLOSSARY_TOKENS, type Glossary, type GlossarySource, glossaryFor } from './glossary.ts';
export {
  type AgentLookup,
  convertImport,
  type ImportResult,
  type ImportShape,
  parseDocument,
  qualifyModel,
} from './import.ts';
export type { N8nReportEntry, N8nStatus, N8nTriggerSpec } from './import-n8n.ts';
export { newSpanId, runSpanId, stepSpanId, traceIdOfRun } from './observability/ids.ts';
export { PARTITIONED_TABLES } from './observability/observability.ts';
export {
  LEVELS,
  type LogLine,
  type LogQuery,
  nest,
  runLogs,
  runLogsSince,
  runTrace,
  spanOf,
  type TraceSpan,
} from './observability/read.ts';
export type { LocalExecutor } from './run-creator.ts';
export {
  type AttemptRow,
  cancelRun,
  FINAL,
  getRun,
  getRunDetail,
  type RerunInput,
  type RunRow,
  Runs,
  type StartedRun,
  type StartRunInput,
  type StepRow,
} from './runs.ts';
export type { ClaimedStep } from './sql/claim-steps.ts';
export type { StepOutcome } from './sql/complete-steps.ts';
export { type RunEvent, type RunEventType, runTimeline } from './timeline.ts';
export { CHANNELS, DEFAULT_WORKER_OPTIONS, type Logger, silentLogger, type WorkerOptions } from './types.ts';
export { RunWatcher } from './watch.ts';
export { checkTemplateLimits, templateCostLimit } from './worker/nodes/agent.ts';
export {
  agentWebhookAad,
  EXTERNAL_DEFAULT_TIMEOUT_MS,
  EXTERNAL_MAX_RESPONSE_BYTES,
  type ExternalAgentTarget,
  externalStepBody,
} from './worker/nodes/external.ts';
export { Worker } from './worker/worker.ts';
export {
  type CreateWorkflowInput,
  checkDefinition,
  createWorkflow,
  getVersion,
  getWorkflow,
  invalidDefinition,
  listVersions,
  lockWorkflow,
  makeCandidateCurrent,
  rollbackWorkflow,
  saveCandidate,
  saveDefinition,
  type WorkflowRow,
  type WorkflowVersionRow,
} from './workflows.ts';
