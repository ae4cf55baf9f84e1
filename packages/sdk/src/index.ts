export {
  AiopsClient,
  type AiopsClientOptions,
  type ApiClient,
  createAiopsClient,
  type EventOptions,
  FINAL_RUN_STATUSES,
  isFinalRunStatus,
  type ListItem,
  type ListParams,
  type ListPath,
  type Run,
  type RunDetail,
  type RunEvent,
  type RunStatus,
  type Schemas,
  type StartRun,
  type WaitOptions,
  type Workflow,
  type WorkflowSummary,
} from './client.ts';
export {
  AiopsApiError,
  AiopsAuthenticationError,
  AiopsConflictError,
  AiopsNotFoundError,
  AiopsPermissionError,
  AiopsRateLimitError,
  AiopsServerError,
  AiopsTimeoutError,
  AiopsValidationError,
  apiError,
  type ErrorBody,
  parseRetryAfter,
} from './errors.ts';
export type { components, operations, paths } from './openapi.gen.ts';
export { type RetryOptions, retryOn429 } from './retry.ts';
export { readServerSentEvents, type ServerSentEvent } from './sse.ts';
