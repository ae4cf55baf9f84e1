import type { ErrorBody } from '@aiops/contracts';

/** A failed API call: the server's error code and its message, which says what to fix. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> | undefined,
  ) {
    super(message);
  }
}

type Listener = () => void;
const signedOut = new Set<Listener>();
/** Called when the session is gone (refresh failed): the app shows the sign-in page. */
export function onSignedOut(fn: Listener): () => void {
  signedOut.add(fn);
  return () => signedOut.delete(fn);
}

export const API = '/api/v1';

async function refresh(): Promise<boolean> {
  const r = await fetch(`${API}/auth/refresh`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{}',
    credentials: 'same-origin',
  });
  // Read the answer to its end: an unread body keeps the request open (API answers are no-store, so the
  // browser's cache does not drain it either).
  await r.arrayBuffer().catch(() => undefined);
  return r.ok;
}
let refreshing: Promise<boolean> | null = null;

export interface CallOptions {
  /** A raw body with its content type (YAML import). */
  raw?: { body: string; type: string };
  signal?: AbortSignal;
}

/**
 * Calls the API with the studio's HTTP-only session cookie. An expired access token is refreshed once
 * (the refresh cookie) and the call repeated; errors become ApiError with the server's message.
 */
export async function api<T>(method: string, path: string, body?: unknown, options: CallOptions = {}) {
  const send = () =>
    fetch(`${API}${path}`, {
      method,
      credentials: 'same-origin',
      signal: options.signal,
      headers: options.raw
        ? { 'content-type': options.raw.type }
        : body !== undefined
          ? { 'content-type': 'application/json' }
          : {},
      body: options.raw ? options.raw.body : body !== undefined ? JSON.stringify(body) : undefined,
    });
  let res = await send();
  if (res.status === 401 && !path.startsWith('/auth/')) {
    refreshing ??= refresh().finally(() => {
      refreshing = null;
    });
    if (await refreshing) res = await send();
    if (res.status === 401) for (const fn of signedOut) fn();
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  const json = text ? (JSON.parse(text) as unknown) : undefined;
  if (!res.ok) {
    const err = (json as ErrorBody | undefined)?.error;
    throw new ApiError(
      res.status,
      err?.code ?? 'http_error',
      err?.message ?? `The server answered ${res.status}`,
      err?.details,
    );
  }
  return json as T;
}

export const get = <T>(path: string) => api<T>('GET', path);
export const post = <T>(path: string, body?: unknown) => api<T>('POST', path, body ?? {});
export const patch = <T>(path: string, body: unknown) => api<T>('PATCH', path, body);
export const put = <T>(path: string, body: unknown) => api<T>('PUT', path, body);
export const del = <T>(path: string) => api<T>('DELETE', path);

/** A query string from the defined values of `params`. */
export function qs(params: Record<string, string | number | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params))
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
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
