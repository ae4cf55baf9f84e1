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
export { type Decision, decideApproval, pauseRun, resumeRun, retryRun, waitingApprovals } from './control.ts';
export {
  type AgentLookup,
  convertImport,
  type ImportResult,
  type ImportShape,
  parseDocument,
  qualifyModel,
} from './import.ts';
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
  rollbackWorkflow,
  saveDefinition,
  type WorkflowRow,
  type WorkflowVersionRow,
} from './workflows.ts';
