/**
 * Provider failures → `AppError`s with the port's `ModelErrorCode`s, each saying whether to retry.
 *
 * | provider answer                         | code                       | status | retryable |
 * | --------------------------------------- | -------------------------- | ------ | --------- |
 * | 429                                     | `provider_rate_limited`    | 429    | yes, after `details.retryAfterMs` when the provider said |
 * | 401, 403, missing key                   | `provider_auth_failed`     | 502    | no        |
 * | 404, unknown model                      | `model_not_found`          | 404    | no        |
 * | 400, 413, 422, other 4xx, bad arguments | `provider_invalid_request` | 400    | no        |
 * | 408, 409, 5xx, 529, network, timeout    | `provider_unavailable`     | 503    | yes       |
 * | answer not matching the output schema   | `provider_unavailable`     | 503    | yes (`details.reason: invalid_output`) |
 *
 * Auth failures answer 502, not 401: the caller's own credentials are fine; the provider refused ours.
 * Messages and details never carry the API key: the provider's message is scrubbed of it, and the
 * original error (whose request may hold it) is not attached as `cause`.
 */
import { AppError, type ModelErrorCode } from '@aiops/core';
import { APICallError, LoadAPIKeyError, NoObjectGeneratedError, NoSuchModelError, RetryError } from 'ai';
import { abortError } from './abort.ts';
import { blockedCause } from './net/resolve.ts';

const STATUS: Record<ModelErrorCode, number> = {
  provider_rate_limited: 429,
  provider_auth_failed: 502,
  provider_invalid_request: 400,
  provider_unavailable: 503,
  budget_exceeded: 402,
  model_not_found: 404,
};
const RETRYABLE: ReadonlySet<ModelErrorCode> = new Set(['provider_rate_limited', 'provider_unavailable']);

export function modelError(
  code: ModelErrorCode,
  message: string,
  details: Record<string, unknown> = {},
): AppError & { code: ModelErrorCode } {
  return new AppError(STATUS[code], code, message, {
    retryable: RETRYABLE.has(code),
    details,
  }) as AppError & { code: ModelErrorCode };
}

/** Removes secrets (and anything shaped like a provider key or a credential) from a provider's message. */
export function scrub(text: string, secrets: readonly (string | undefined)[]): string {
  let out = text;
  for (const s of secrets) if (s && s.length >= 4) out = out.split(s).join('[redacted]');
  // OpenAI echoes a masked key ("sk-proj-****abcd"); other providers' keys have known prefixes.
  return out
    .replace(/\b(?:(?:sk|pk|xai|pplx|gsk)-[-_A-Za-z0-9*]{8,}|AIza[-_A-Za-z0-9]{30,})/g, '[redacted]')
    .replace(/\b(Bearer|Basic)\s+[-._~+/A-Za-z0-9]+=*/gi, '$1 [redacted]')
    .replace(
      /\b([-\w]*(?:key|token|secret|password|passwd|auth\w*|cookie|session)[-\w]*)(["']?\s*[:=]\s*["']?)[^\s"',;&}]+/gi,
      '$1$2[redacted]',
    );
}

/** Longest excerpt of an upstream's own text that reaches a caller. */
export const EXCERPT_CHARS = 200;

/** A short, scrubbed, single-line excerpt of an upstream's text (its error body, say). */
export function excerpt(text: string, secrets: readonly (string | undefined)[] = []): string {
  const line = scrub(text, secrets).replace(/\s+/g, ' ').trim();
  return line.length > EXCERPT_CHARS ? `${line.slice(0, EXCERPT_CHARS)}…` : line;
}

/** Milliseconds to wait before retrying, from `retry-after-ms`, `retry-after` (seconds or HTTP date) or Google's RetryInfo. */
export function retryAfterMs(
  headers: Record<string, string> | undefined,
  body?: string,
  now = Date.now(),
): number | undefined {
  const h = lowerKeys(headers);
  const ms = Number.parseFloat(h['retry-after-ms'] ?? '');
  if (Number.isFinite(ms) && ms >= 0) return Math.ceil(ms);
  const after = h['retry-after'];
  if (after) {
    const seconds = Number(after);
    if (Number.isFinite(seconds) && seconds >= 0) return Math.ceil(seconds * 1000);
    const date = Date.parse(after);
    if (Number.isFinite(date)) return Math.max(0, date - now);
  }
  // Google: {"error":{"details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"34.4s"}]}}
  const delay = body ? /"retryDelay"\s*:\s*"(\d+(?:\.\d+)?)s"/.exec(body) : null;
  if (delay) return Math.ceil(Number(delay[1]) * 1000);
  return undefined;
}

function lowerKeys(headers: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (headers) for (const [k, v] of Object.entries(headers)) out[k.toLowerCase()] = v;
  return out;
}

/** The provider's own error message from its JSON error body, if it has one. */
function providerMessage(body: string | undefined): string | undefined {
  if (!body) return undefined;
  try {
    const parsed = JSON.parse(body) as Record<string, unknown>;
    const err = parsed.error;
    if (typeof err === 'object' && err && typeof (err as { message?: unknown }).message === 'string')
      return (err as { message: string }).message;
    if (typeof err === 'string') return err;
    if (typeof parsed.message === 'string') return parsed.message;
    if (typeof parsed.detail === 'string') return parsed.detail;
  } catch {
    // not JSON: fall through
  }
  return body;
}

/** Google answers a bad API key with 400 INVALID_ARGUMENT, reason API_KEY_INVALID. */
const BAD_KEY = /API_KEY_INVALID|API key not valid|invalid api key|invalid x-api-key/i;

function codeForStatus(
  status: number | undefined,
  retryableHint: boolean,
  body: string | undefined,
): ModelErrorCode {
  if (status === undefined) return retryableHint ? 'provider_unavailable' : 'provider_invalid_request';
  // a 2xx whose body the provider package could not read: the provider's fault, worth another try
  if (status < 400) return 'provider_unavailable';
  if (status === 400 && body && BAD_KEY.test(body)) return 'provider_auth_failed';
  if (status === 429) return 'provider_rate_limited';
  if (status === 401 || status === 403) return 'provider_auth_failed';
  if (status === 404) return 'model_not_found';
  if (status === 408 || status === 409 || status >= 500) return 'provider_unavailable';
  return 'provider_invalid_request';
}

export interface ClassifyContext {
  model: string;
  signal: AbortSignal;
  /** Values to scrub from messages (the API key). */
  secrets: readonly (string | undefined)[];
}

/**
 * Turns whatever a provider call threw into an `AppError` of the port (or the abort error when the caller
 * aborted). AppErrors pass through unchanged.
 */
export function classifyProviderError(error: unknown, ctx: ClassifyContext): Error {
  if (ctx.signal.aborted) return abortError(ctx.signal);
  if (error instanceof AppError) return error;
  const provider = ctx.model.slice(0, ctx.model.indexOf(':'));
  const blocked = blockedCause(error);
  if (blocked)
    return modelError('provider_invalid_request', `the ${provider} base URL is refused: ${blocked.message}`, {
      model: ctx.model,
      provider: provider,
      reason: 'address_blocked',
      ...blocked.details,
    });
  const e = RetryError.isInstance(error) ? (error.lastError ?? error) : error;
  const base = { model: ctx.model, provider };

  if (APICallError.isInstance(e)) {
    const status = e.statusCode;
    const code = codeForStatus(status, e.isRetryable, e.responseBody);
    const said = excerpt(providerMessage(e.responseBody) ?? e.message, ctx.secrets);
    const details: Record<string, unknown> = { ...base, providerStatus: status ?? null };
    if (code === 'provider_rate_limited') {
      const wait = retryAfterMs(e.responseHeaders, e.responseBody);
      if (wait !== undefined) details.retryAfterMs = wait;
    }
    const what = status === undefined ? `could not reach ${provider}` : `${provider} answered ${status}`;
    return modelError(code, `${what}: ${said}`, details);
  }
  if (LoadAPIKeyError.isInstance(e))
    return modelError('provider_auth_failed', `no API key for ${provider}: add one to the integration`, base);
  if (NoSuchModelError.isInstance(e))
    return modelError('model_not_found', `${ctx.model} is not a model ${provider} offers here`, base);
  if (NoObjectGeneratedError.isInstance(e))
    return modelError(
      'provider_unavailable',
      `${ctx.model} answered text that does not match the output schema`,
      {
        ...base,
        reason: 'invalid_output',
      },
    );
  if (e instanceof Error && e.name === 'AI_InvalidArgumentError')
    return modelError('provider_invalid_request', excerpt(e.message, ctx.secrets), base);
  if (e instanceof Error && (e.name === 'TimeoutError' || e.name === 'AbortError'))
    return modelError('provider_unavailable', `${provider} did not answer in time`, base);
  const message = e instanceof Error ? e.message : String(e);
  return modelError(
    'provider_unavailable',
    `${provider} call failed: ${excerpt(message, ctx.secrets)}`,
    base,
  );
}
