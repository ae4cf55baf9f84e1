/** The error body every API failure answers with: `{"error": {"code", "message", "details", "requestId"}}`. */
export interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown>; requestId?: string };
}

const isErrorBody = (body: unknown): body is ErrorBody => {
  const e = (body as { error?: unknown } | null)?.error as { code?: unknown; message?: unknown } | undefined;
  return typeof e === 'object' && e !== null && typeof e.code === 'string' && typeof e.message === 'string';
};

/**
 * An answer of the API that was not a success: its status, the error body's `code`, `message`, `details`
 * and `requestId`, and the body as received. `retryable` says whether the same request may succeed later.
 */
export class AiopsApiError extends Error {
  override readonly name: string = 'AiopsApiError';
  readonly status: number;
  readonly code: string;
  readonly details: Record<string, unknown> | undefined;
  readonly requestId: string | undefined;
  /** The body as received (an ErrorBody for every error of the API; text or undefined from a proxy). */
  readonly body: unknown;
  /** Seconds to wait before a retry (the Retry-After header), when the server said so. */
  readonly retryAfterSeconds: number | undefined;

  constructor(status: number, body: unknown, retryAfterSeconds?: number) {
    const known = isErrorBody(body) ? body.error : undefined;
    super(
      known?.message ?? `HTTP ${status}${typeof body === 'string' && body ? `: ${body.slice(0, 200)}` : ''}`,
    );
    this.status = status;
    this.code = known?.code ?? `http_${status}`;
    this.details = known?.details;
    this.requestId = known?.requestId;
    this.body = body;
    this.retryAfterSeconds = retryAfterSeconds;
  }

  /** 408, 429 and 5xx: the same request may succeed later. */
  get retryable(): boolean {
    return this.status === 408 || this.status === 429 || this.status >= 500;
  }
}

/** 400/422: the request was wrong; `details.issues` (when present) names each bad field. */
export class AiopsValidationError extends AiopsApiError {
  override readonly name = 'AiopsValidationError';
}
/** 401: no credentials, or expired or revoked ones. */
export class AiopsAuthenticationError extends AiopsApiError {
  override readonly name = 'AiopsAuthenticationError';
}
/** 403: the token or key lacks the permission. */
export class AiopsPermissionError extends AiopsApiError {
  override readonly name = 'AiopsPermissionError';
}
/** 404: no such resource in this organization. */
export class AiopsNotFoundError extends AiopsApiError {
  override readonly name = 'AiopsNotFoundError';
}
/** 409: the resource's state forbids it (e.g. cancelling a finished run). */
export class AiopsConflictError extends AiopsApiError {
  override readonly name = 'AiopsConflictError';
}
/** 429: rate limited (after the client's own retries, if any); see `retryAfterSeconds`. */
export class AiopsRateLimitError extends AiopsApiError {
  override readonly name = 'AiopsRateLimitError';
}
/** 5xx: the server failed; retry later. */
export class AiopsServerError extends AiopsApiError {
  override readonly name = 'AiopsServerError';
}

/** Seconds from a Retry-After header (delta-seconds or an HTTP date); undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(value.trim())) return Number(value);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, (at - now) / 1000);
}

/** The typed error for a response that was not a success, with its body already read. */
export function apiError(response: Response, body: unknown): AiopsApiError {
  const s = response.status;
  const retryAfter = parseRetryAfter(response.headers.get('retry-after'));
  const Kind =
    s === 400 || s === 422
      ? AiopsValidationError
      : s === 401
        ? AiopsAuthenticationError
        : s === 403
          ? AiopsPermissionError
          : s === 404
            ? AiopsNotFoundError
            : s === 409
              ? AiopsConflictError
              : s === 429
                ? AiopsRateLimitError
                : s >= 500
                  ? AiopsServerError
                  : AiopsApiError;
  return new Kind(s, body, retryAfter);
}

/** A wait for a run's end ran out of time; the run goes on (`runId`). */
export class AiopsTimeoutError extends Error {
  override readonly name = 'AiopsTimeoutError';
  constructor(
    readonly runId: string,
    readonly waitedMs: number,
  ) {
    super(`run ${runId} did not finish within ${Math.round(waitedMs / 1000)} s; it goes on`);
  }
}
