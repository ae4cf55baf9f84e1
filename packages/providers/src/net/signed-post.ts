import { Webhook } from 'standardwebhooks';
import { type AddressCategory, type OutboundPolicy, outboundPolicy } from './address.ts';
import { guardedFetch } from './fetch.ts';
import { blockedCause } from './resolve.ts';

export interface SignedPostInput {
  url: string;
  /** The `webhook-id`: stable across retries of the same message. */
  id: string;
  body: string;
  /**
   * Signing secrets (`whsec_…`); more than one during a rotation's grace period (space-separated
   * signatures). None: the request carries `webhook-id` and `webhook-timestamp` but no signature.
   */
  secrets: string[];
  /** Extra headers (e.g. `authorization`). */
  headers?: Record<string, string>;
  /** The outbound policy to obey; without it one is made from `allowPrivate` and the categories. */
  policy?: OutboundPolicy;
  /** The organization allows private network addresses (`settings.allowPrivateNetworks`). */
  allowPrivate?: boolean;
  privateNetworkCategories?: readonly AddressCategory[] | undefined;
  timeoutMs: number;
  /** Aborts the call besides its timeout (a step's own signal). */
  signal?: AbortSignal;
  /** Read the answer's body, up to this many bytes (a longer one is `tooLarge`); default: not read. */
  maxResponseBytes?: number;
  userAgent?: string;
}

export interface SignedPostResult {
  /** The HTTP status, or null when no response came. */
  code: number | null;
  /** Null on a 2xx answer. */
  error: string | null;
  /** The address was refused by the outbound policy (`address_blocked`): retrying will not help. */
  blocked?: boolean;
  /** The call ran out of time (its own timeout, or `signal` aborted with a timeout). */
  timedOut?: boolean;
  /** The answer's body as text (only with `maxResponseBytes`). */
  body?: string;
  /** The answer's `content-type`. */
  contentType?: string;
  /** The answer was longer than `maxResponseBytes` (its body is then not given). */
  tooLarge?: boolean;
}

async function readBounded(res: Response, max: number): Promise<{ text?: string; tooLarge?: boolean }> {
  const declared = Number(res.headers.get('content-length') ?? Number.NaN);
  if (Number.isFinite(declared) && declared > max) {
    await res.body?.cancel().catch(() => {});
    return { tooLarge: true };
  }
  if (!res.body) return { text: '' };
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => {});
      return { tooLarge: true };
    }
    chunks.push(value);
  }
  return { text: Buffer.concat(chunks).toString('utf8') };
}

/**
 * A Standard Webhooks-signed JSON POST through the outbound address policy (`guardedFetch`): the one way
 * event sinks, sync targets, agent schedules and external agent steps send. Never throws: a refused
 * address, a timeout or a non-2xx answer is an `error`.
 */
export async function signedPost(p: SignedPostInput): Promise<SignedPostResult> {
  const timeout = AbortSignal.timeout(p.timeoutMs);
  const signal = p.signal ? AbortSignal.any([p.signal, timeout]) : timeout;
  try {
    const at = new Date();
    const policy =
      p.policy ??
      outboundPolicy({
        allowPrivateNetworks: p.allowPrivate === true,
        privateCategories: p.privateNetworkCategories,
      });
    const res = await guardedFetch(policy)(p.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': p.userAgent ?? 'aiops-studio-webhooks/1',
        ...p.headers,
        'webhook-id': p.id,
        'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
        ...(p.secrets.length
          ? { 'webhook-signature': p.secrets.map((k) => new Webhook(k).sign(p.id, at, p.body)).join(' ') }
          : {}),
      },
      body: p.body,
      signal,
    });
    const ok = res.status >= 200 && res.status < 300;
    const contentType = res.headers.get('content-type') ?? undefined;
    const read =
      p.maxResponseBytes !== undefined
        ? await readBounded(res, p.maxResponseBytes)
        : await res.body?.cancel().catch(() => {});
    return {
      code: res.status,
      error: ok ? null : `HTTP ${res.status}`,
      ...(contentType ? { contentType } : {}),
      ...(read?.text !== undefined ? { body: read.text } : {}),
      ...(read?.tooLarge ? { tooLarge: true } : {}),
    };
  } catch (e) {
    const cause = (e as { cause?: { message?: string; code?: string } }).cause;
    const blocked = blockedCause(e) !== undefined;
    const timedOut = timeout.aborted || (signal.reason as Error | undefined)?.name === 'TimeoutError';
    return {
      code: null,
      error: `${(e as Error).message}${cause?.message ? `: ${cause.message}` : ''}`.slice(0, 1000),
      ...(blocked ? { blocked: true } : {}),
      ...(timedOut ? { timedOut: true } : {}),
    };
  }
}
