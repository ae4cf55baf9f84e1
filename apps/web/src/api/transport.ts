import { AiopsClient, retryOn429 } from '@aiops/sdk';

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

/**
 * The studio's fetch: the HTTP-only session cookie goes with every request (`credentials: 'same-origin'`).
 * A 401 outside `/auth/` refreshes the session once (one refresh shared by concurrent calls) and repeats
 * the request; when that fails too, the `onSignedOut` listeners run and the 401 is answered.
 */
export async function sessionFetch(request: Request): Promise<Response> {
  const withCookie = (r: Request) => fetch(new Request(r, { credentials: 'same-origin' }));
  const path = new URL(request.url).pathname;
  if (path.startsWith(`${API}/auth/`)) return withCookie(request);
  const again = request.clone();
  let res = await withCookie(request);
  if (res.status !== 401) return res;
  refreshing ??= refresh().finally(() => {
    refreshing = null;
  });
  if (await refreshing) {
    await res.body?.cancel().catch(() => undefined);
    res = await withCookie(again);
  }
  if (res.status === 401) for (const fn of signedOut) fn();
  return res;
}

/** The page's origin (a placeholder where there is no page: unit tests that import a feature module). */
const origin = globalThis.location?.origin ?? 'http://localhost';

/**
 * The studio's client of the API: the SDK's AiopsClient on the page's origin with the session fetch above
 * (and the SDK's retry of 429 answers after Retry-After). `sdk.api` is the typed openapi-fetch client:
 * paths, parameters and bodies are checked against the OpenAPI document at compile time.
 */
export const sdk = new AiopsClient({ baseUrl: origin, fetch: sessionFetch, credentials: 'same-origin' });

/** The data of a typed call, or its typed error (AiopsApiError, the studio's ApiError) thrown. */
export const call: AiopsClient['call'] = (pending) => sdk.call(pending);

/** The fetch behind untyped calls: the session fetch with the same 429 retry as the SDK's. */
export const transport = retryOn429(sessionFetch);
