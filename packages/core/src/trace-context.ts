import { AsyncLocalStorage } from 'node:async_hooks';

/** A W3C Trace Context position: 32-hex trace id, 16-hex span id (lower case, not all zeros). */
export interface TraceParent {
  traceId: string;
  spanId: string;
  sampled: boolean;
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;

/**
 * Parses a `traceparent` header (W3C Trace Context level 1). Returns undefined for anything invalid
 * (version ff, all-zero ids, wrong lengths, upper case), as the spec says a receiver must ignore it.
 */
export function parseTraceparent(header: string | undefined | null): TraceParent | undefined {
  if (!header || header.length > 512) return undefined;
  const m = TRACEPARENT.exec(header.trim());
  if (!m) return undefined;
  const [, version, traceId, spanId, flags, rest] = m;
  if (version === 'ff' || (version === '00' && rest)) return undefined;
  if (/^0+$/.test(traceId!) || /^0+$/.test(spanId!)) return undefined;
  return { traceId: traceId!, spanId: spanId!, sampled: (Number.parseInt(flags!, 16) & 1) === 1 };
}

export function formatTraceparent(p: { traceId: string; spanId: string; sampled?: boolean }): string {
  return `00-${p.traceId}-${p.spanId}-${p.sampled === false ? '00' : '01'}`;
}

const active = new AsyncLocalStorage<string>();

/** Runs `fn` with `traceparent` as the current trace position: outbound tool HTTP calls carry it. */
export function withTraceparent<T>(traceparent: string, fn: () => T): T {
  return active.run(traceparent, fn);
}

/** The `traceparent` of the current tool call, if one is being traced. */
export function currentTraceparent(): string | undefined {
  return active.getStore();
}
