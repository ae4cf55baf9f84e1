/**
 * Typed errors of the domain. Each says which HTTP status it maps to and whether the caller may retry
 * the same request unchanged (`retryable`). The HTTP layer turns them into the uniform error body.
 */
export interface AppErrorOptions {
  details?: Record<string, unknown>;
  cause?: unknown;
  retryable?: boolean;
}

export class AppError extends Error {
  override name = 'AppError';
  readonly details: Record<string, unknown> | undefined;
  readonly retryable: boolean;

  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    options: AppErrorOptions = {},
  ) {
    super(message, { cause: options.cause });
    this.details = options.details;
    this.retryable = options.retryable ?? status >= 500;
  }
}

export const badRequest = (message: string, details?: Record<string, unknown>) =>
  new AppError(400, 'bad_request', message, { details });

export const validationFailed = (message: string, issues: { path: string; message: string }[]) =>
  new AppError(400, 'validation_failed', message, { details: { issues } });

export const unauthorized = (message = 'Authentication required: send a bearer token or API key') =>
  new AppError(401, 'unauthorized', message);

export const forbidden = (message: string, details?: Record<string, unknown>) =>
  new AppError(403, 'forbidden', message, { details });

export const notFound = (entity: string, id?: string) =>
  new AppError(404, 'not_found', id ? `${entity} ${id} does not exist` : `${entity} does not exist`, {
    details: id ? { entity, id } : { entity },
  });

export const conflict = (message: string, details?: Record<string, unknown>) =>
  new AppError(409, 'conflict', message, { details });

/** Service temporarily unable to answer; the caller should retry later. */
export const unavailable = (message: string, cause?: unknown) =>
  new AppError(503, 'unavailable', message, { cause, retryable: true });

export function isAppError(e: unknown): e is AppError {
  return e instanceof AppError;
}
