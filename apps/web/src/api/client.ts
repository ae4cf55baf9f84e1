import { AiopsApiError, apiError } from '@aiops/sdk';
import { API, transport } from './transport.ts';

export { API, call, onSignedOut, sdk } from './transport.ts';
export { apiError };

/**
 * A failed API call (the SDK's AiopsApiError and its subclasses): `status`, the server's error `code`, its
 * `message` (which says what to fix) and `details`.
 */
export const ApiError = AiopsApiError;
export type ApiError = AiopsApiError;

export interface CallOptions {
  /** A raw body with its content type (YAML import). */
  raw?: { body: string; type: string };
  signal?: AbortSignal;
}

/** A response's body: JSON when it parses, else its text (a proxy's error page), undefined when empty. */
async function bodyOf(res: Response): Promise<unknown> {
  const text = await res.text();
  if (!text) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/**
 * An untyped call by path (below `/api/v1`), through the same transport as the SDK client (session cookie,
 * one refresh on 401, 429 retry); errors are the SDK's typed errors. Only for a raw body the OpenAPI
 * document does not describe (the YAML/JSON workflow import); every other call is `call(sdk.api.GET(...))`,
 * which the compiler checks against the OpenAPI document.
 */
export async function api<T>(method: string, path: string, body?: unknown, options: CallOptions = {}) {
  const res = await transport(
    new Request(new URL(`${API}${path}`, globalThis.location?.origin ?? 'http://localhost'), {
      method,
      signal: options.signal ?? null,
      headers: options.raw
        ? { 'content-type': options.raw.type }
        : body !== undefined
          ? { 'content-type': 'application/json' }
          : {},
      body: options.raw ? options.raw.body : body !== undefined ? JSON.stringify(body) : null,
    }),
  );
  if (res.status === 204) return undefined as T;
  const json = await bodyOf(res);
  if (!res.ok) throw apiError(res, json);
  return json as T;
}

/** `body.organizationName` → "Organization name". */
function fieldName(path: string): string {
  const last = path.split('.').at(-1) ?? path;
  const words = last.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** A refused request's issues as sentences a person reads ("The password must be at least …"). */
function validationSentences(details: Record<string, unknown> | undefined): string | null {
  const issues = details?.issues;
  if (!Array.isArray(issues) || issues.length === 0) return null;
  return issues
    .map((i: { path?: unknown; message?: unknown }) => {
      const message = String(i.message ?? '');
      const text = /^the /i.test(message)
        ? message.charAt(0).toUpperCase() + message.slice(1)
        : `${fieldName(String(i.path ?? 'value'))} ${message}`;
      return /[.!?]$/.test(text) ? text : `${text}.`;
    })
    .join(' ');
}

/** The message to show for any error. */
export function messageOf(e: unknown): string {
  if (e instanceof ApiError) {
    return (e.code === 'validation_failed' && validationSentences(e.details)) || e.message;
  }
  if (e instanceof Error) return e.message;
  return String(e);
}
