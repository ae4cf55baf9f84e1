export { Catalog, type CompiledVersion, compileVersion } from './catalog.ts';
export { insertEvents, type NewEvent, type RunEventType } from './events.ts';
export {
  type AttemptRow,
  cancelRun,
  type EventRow,
  eventsSince,
  FINAL,
  getRun,
  getRunDetail,
  type RunRow,
  type StartRunInput,
  type StepRow,
  startRun,
  waitForRun,
} from './runs.ts';
export type { ClaimedStep } from './sql/claim-steps.ts';
export type { StepOutcome } from './sql/complete-steps.ts';
export type { CreatedRun } from './sql/create-run.ts';
export { CHANNELS, DEFAULT_WORKER_OPTIONS, type Logger, silentLogger, type WorkerOptions } from './types.ts';
export { Worker } from './worker/worker.ts';
export {
  type CreateWorkflowInput,
  checkDefinition,
  createWorkflow,
  getVersion,
  getWorkflow,
  invalidDefinition,
  listVersions,
  rollbackWorkflow,
  saveDefinition,
  type WorkflowRow,
  type WorkflowVersionRow,
} from './workflows.ts';
