/**
 * OTLP/HTTP trace requests (opentelemetry-proto `ExportTraceServiceRequest`) decoded from protobuf or
 * from OTLP/JSON into one shape. The protobuf schema is the subset of opentelemetry-proto v1 that traces
 * use, given to protobufjs as JSON (field numbers and types as in the .proto files).
 */
import protobuf from 'protobufjs';

const anyValueFields = {
  stringValue: { type: 'string', id: 1 },
  boolValue: { type: 'bool', id: 2 },
  intValue: { type: 'int64', id: 3 },
  doubleValue: { type: 'double', id: 4 },
  arrayValue: { type: 'ArrayValue', id: 5 },
  kvlistValue: { type: 'KeyValueList', id: 6 },
  bytesValue: { type: 'bytes', id: 7 },
};

const root = protobuf.Root.fromJSON({
  nested: {
    otlp: {
      nested: {
        AnyValue: { oneofs: { value: { oneof: Object.keys(anyValueFields) } }, fields: anyValueFields },
        ArrayValue: { fields: { values: { rule: 'repeated', type: 'AnyValue', id: 1 } } },
        KeyValueList: { fields: { values: { rule: 'repeated', type: 'KeyValue', id: 1 } } },
        KeyValue: { fields: { key: { type: 'string', id: 1 }, value: { type: 'AnyValue', id: 2 } } },
        Resource: {
          fields: {
            attributes: { rule: 'repeated', type: 'KeyValue', id: 1 },
            droppedAttributesCount: { type: 'uint32', id: 2 },
          },
        },
        InstrumentationScope: {
          fields: {
            name: { type: 'string', id: 1 },
            version: { type: 'string', id: 2 },
            attributes: { rule: 'repeated', type: 'KeyValue', id: 3 },
          },
        },
        Status: { fields: { message: { type: 'string', id: 2 }, code: { type: 'int32', id: 3 } } },
        Event: {
          fields: {
            timeUnixNano: { type: 'fixed64', id: 1 },
            name: { type: 'string', id: 2 },
            attributes: { rule: 'repeated', type: 'KeyValue', id: 3 },
          },
        },
        Link: {
          fields: {
            traceId: { type: 'bytes', id: 1 },
            spanId: { type: 'bytes', id: 2 },
            traceState: { type: 'string', id: 3 },
            attributes: { rule: 'repeated', type: 'KeyValue', id: 4 },
          },
        },
        Span: {
          fields: {
            traceId: { type: 'bytes', id: 1 },
            spanId: { type: 'bytes', id: 2 },
            traceState: { type: 'string', id: 3 },
            parentSpanId: { type: 'bytes', id: 4 },
            name: { type: 'string', id: 5 },
            kind: { type: 'int32', id: 6 },
            startTimeUnixNano: { type: 'fixed64', id: 7 },
            endTimeUnixNano: { type: 'fixed64', id: 8 },
            attributes: { rule: 'repeated', type: 'KeyValue', id: 9 },
            events: { rule: 'repeated', type: 'Event', id: 11 },
            links: { rule: 'repeated', type: 'Link', id: 13 },
            status: { type: 'Status', id: 15 },
          },
        },
        ScopeSpans: {
          fields: {
            scope: { type: 'InstrumentationScope', id: 1 },
            spans: { rule: 'repeated', type: 'Span', id: 2 },
          },
        },
        ResourceSpans: {
          fields: {
            resource: { type: 'Resource', id: 1 },
            scopeSpans: { rule: 'repeated', type: 'ScopeSpans', id: 2 },
          },
        },
        ExportTraceServiceRequest: {
          fields: { resourceSpans: { rule: 'repeated', type: 'ResourceSpans', id: 1 } },
        },
        ExportTracePartialSuccess: {
          fields: { rejectedSpans: { type: 'int64', id: 1 }, errorMessage: { type: 'string', id: 2 } },
        },
        ExportTraceServiceResponse: {
          fields: { partialSuccess: { type: 'ExportTracePartialSuccess', id: 1 } },
        },
        RpcStatus: { fields: { code: { type: 'int32', id: 1 }, message: { type: 'string', id: 2 } } },
      },
    },
  },
});

/** The request message type (exported for tests that build payloads the SDK cannot, such as kvlist values). */
export const Request = root.lookupType('otlp.ExportTraceServiceRequest');
const Response = root.lookupType('otlp.ExportTraceServiceResponse');
const RpcStatus = root.lookupType('otlp.RpcStatus');

export const SPAN_KINDS = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'] as const;

export type Attributes = Record<string, unknown>;

export interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string | null;
  name: string;
  kind: string;
  /** Nanoseconds since the epoch, as decimal strings (they exceed 2^53). */
  startNanos: string;
  endNanos: string;
  attributes: Attributes;
  events: { name: string; timeNanos: string; attributes: Attributes }[];
  links: { traceId: string; spanId: string; attributes: Attributes }[];
  status: { code: number; message: string };
  resource: Attributes;
  scope: { name: string; version: string };
}

export class OtlpDecodeError extends Error {}

interface RawKeyValue {
  key?: string;
  value?: RawAnyValue;
}
interface RawAnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string | number;
  doubleValue?: number;
  arrayValue?: { values?: RawAnyValue[] };
  kvlistValue?: { values?: RawKeyValue[] };
  bytesValue?: string | Uint8Array;
}

function anyValue(v: RawAnyValue | undefined, depth = 0): unknown {
  if (!v || depth > 8) return null;
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.intValue !== undefined) {
    const n = Number(v.intValue);
    return Number.isSafeInteger(n) ? n : String(v.intValue);
  }
  if (v.doubleValue !== undefined) return Number(v.doubleValue);
  if (v.arrayValue) return (v.arrayValue.values ?? []).map((x) => anyValue(x, depth + 1));
  if (v.kvlistValue) return attributes(v.kvlistValue.values, depth + 1);
  if (v.bytesValue !== undefined)
    return typeof v.bytesValue === 'string' ? v.bytesValue : Buffer.from(v.bytesValue).toString('base64');
  return null;
}

function attributes(list: RawKeyValue[] | undefined, depth = 0): Attributes {
  const out: Attributes = {};
  for (const kv of list ?? []) if (kv.key) out[kv.key] = anyValue(kv.value, depth);
  return out;
}

/** Trace and span ids: bytes in protobuf, hex strings in OTLP/JSON. */
function id(v: unknown, json: boolean): string {
  if (v === undefined || v === null || v === '') return '';
  if (json) return typeof v === 'string' ? v.toLowerCase() : '';
  return Buffer.from(v as Uint8Array).toString('hex');
}

const nanos = (v: unknown): string => {
  if (v === undefined || v === null) return '0';
  const s = String(v);
  return /^\d{1,20}$/.test(s) ? s : 'invalid';
};

const kindOf = (k: unknown): string => {
  if (typeof k === 'number') return SPAN_KINDS[k] ?? 'unspecified';
  if (typeof k === 'string') {
    const name = k.replace(/^SPAN_KIND_/, '').toLowerCase();
    return (SPAN_KINDS as readonly string[]).includes(name) ? name : 'unspecified';
  }
  return 'unspecified';
};

interface RawRequest {
  resourceSpans?: {
    resource?: { attributes?: RawKeyValue[] };
    scopeSpans?: {
      scope?: { name?: string; version?: string };
      spans?: Record<string, unknown>[];
    }[];
  }[];
}

function normalize(req: RawRequest, json: boolean): OtlpSpan[] {
  const out: OtlpSpan[] = [];
  if (!Array.isArray(req.resourceSpans ?? [])) throw new OtlpDecodeError('resourceSpans must be an array');
  for (const rs of req.resourceSpans ?? []) {
    const resource = attributes(rs?.resource?.attributes);
    for (const ss of rs?.scopeSpans ?? []) {
      const scope = { name: ss?.scope?.name ?? '', version: ss?.scope?.version ?? '' };
      for (const s of ss?.spans ?? []) {
        const status = (s.status ?? {}) as { code?: number | string; message?: string };
        out.push({
          traceId: id(s.traceId, json),
          spanId: id(s.spanId, json),
          parentSpanId: id(s.parentSpanId, json) || null,
          name: typeof s.name === 'string' ? s.name : '',
          kind: kindOf(s.kind),
          startNanos: nanos(s.startTimeUnixNano),
          endNanos: nanos(s.endTimeUnixNano),
          attributes: attributes(s.attributes as RawKeyValue[]),
          events: (
            (s.events ?? []) as { name?: string; timeUnixNano?: unknown; attributes?: RawKeyValue[] }[]
          ).map((e) => ({
            name: e.name ?? '',
            timeNanos: nanos(e.timeUnixNano),
            attributes: attributes(e.attributes),
          })),
          links: (
            (s.links ?? []) as { traceId?: unknown; spanId?: unknown; attributes?: RawKeyValue[] }[]
          ).map((l) => ({
            traceId: id(l.traceId, json),
            spanId: id(l.spanId, json),
            attributes: attributes(l.attributes),
          })),
          status: {
            code:
              typeof status.code === 'number'
                ? status.code
                : status.code === 'STATUS_CODE_OK'
                  ? 1
                  : status.code === 'STATUS_CODE_ERROR'
                    ? 2
                    : 0,
            message: status.message ?? '',
          },
          resource,
          scope,
        });
      }
    }
  }
  return out;
}

/** Decodes a request body; throws `OtlpDecodeError` for anything that is not an OTLP trace request. */
export function decodeTraces(body: Buffer, format: 'protobuf' | 'json'): OtlpSpan[] {
  if (format === 'json') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch (e) {
      throw new OtlpDecodeError(`the body is not JSON: ${(e as Error).message}`);
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
      throw new OtlpDecodeError('an OTLP/JSON trace request is an object with resourceSpans');
    try {
      return normalize(parsed as RawRequest, true);
    } catch (e) {
      throw e instanceof OtlpDecodeError
        ? e
        : new OtlpDecodeError(`not an OTLP trace request: ${(e as Error).message}`);
    }
  }
  let message: protobuf.Message;
  try {
    message = Request.decode(body);
  } catch (e) {
    throw new OtlpDecodeError(`the body is not an OTLP protobuf trace request: ${(e as Error).message}`);
  }
  return fromMessage(message as unknown as PbRequest);
}

// Decoded protobuf messages, read directly (no `toObject` copy): unset fields read their type's default
// (empty string, zero, empty bytes and lists, null message), which is what proto3 senders mean by absence.
interface PbLong {
  low: number;
  high: number;
  unsigned: boolean;
  toString(): string;
  toNumber(): number;
}
interface PbKeyValue {
  key: string;
  value: PbAnyValue | null;
}
interface PbAnyValue {
  value?: keyof typeof anyValueFields;
  stringValue: string;
  boolValue: boolean;
  intValue: PbLong | number;
  doubleValue: number;
  arrayValue: { values: PbAnyValue[] } | null;
  kvlistValue: { values: PbKeyValue[] } | null;
  bytesValue: Uint8Array;
}
interface PbSpan {
  traceId: Uint8Array;
  spanId: Uint8Array;
  parentSpanId: Uint8Array;
  name: string;
  kind: number;
  startTimeUnixNano: PbLong | number;
  endTimeUnixNano: PbLong | number;
  attributes: PbKeyValue[];
  events: { timeUnixNano: PbLong | number; name: string; attributes: PbKeyValue[] }[];
  links: { traceId: Uint8Array; spanId: Uint8Array; attributes: PbKeyValue[] }[];
  status: { code: number; message: string } | null;
}
interface PbRequest {
  resourceSpans: {
    resource: { attributes: PbKeyValue[] } | null;
    scopeSpans: { scope: { name: string; version: string } | null; spans: PbSpan[] }[];
  }[];
}

/** A fixed64 as decimal digits: exact (BigInt of its two 32-bit halves), as `longs: String` gave. */
function pbNanos(v: PbLong | number): string {
  if (typeof v === 'number') return String(v);
  if (v.high === 0) return String(v.low >>> 0);
  return ((BigInt(v.high >>> 0) << 32n) | BigInt(v.low >>> 0)).toString();
}

function pbAnyValue(v: PbAnyValue | null, depth: number): unknown {
  if (!v || depth > 8) return null;
  switch (v.value) {
    case 'stringValue':
      return v.stringValue;
    case 'boolValue':
      return v.boolValue;
    case 'intValue': {
      const i = v.intValue;
      if (typeof i === 'number') return i;
      const n = i.toNumber();
      return Number.isSafeInteger(n) ? n : i.toString();
    }
    case 'doubleValue':
      return v.doubleValue;
    case 'arrayValue':
      return (v.arrayValue?.values ?? []).map((x) => pbAnyValue(x, depth + 1));
    case 'kvlistValue':
      return pbAttributes(v.kvlistValue?.values ?? [], depth + 1);
    case 'bytesValue':
      return Buffer.from(v.bytesValue).toString('base64');
    default:
      return null;
  }
}

function pbAttributes(list: PbKeyValue[], depth = 0): Attributes {
  const out: Attributes = {};
  for (const kv of list) if (kv.key) out[kv.key] = pbAnyValue(kv.value, depth);
  return out;
}

const hexOf = (b: Uint8Array) =>
  b.length ? Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex') : '';

function fromMessage(req: PbRequest): OtlpSpan[] {
  const out: OtlpSpan[] = [];
  for (const rs of req.resourceSpans) {
    const resource = pbAttributes(rs.resource?.attributes ?? []);
    for (const ss of rs.scopeSpans) {
      const scope = { name: ss.scope?.name ?? '', version: ss.scope?.version ?? '' };
      for (const s of ss.spans) {
        out.push({
          traceId: hexOf(s.traceId),
          spanId: hexOf(s.spanId),
          parentSpanId: hexOf(s.parentSpanId) || null,
          name: s.name,
          kind: SPAN_KINDS[s.kind] ?? 'unspecified',
          startNanos: pbNanos(s.startTimeUnixNano),
          endNanos: pbNanos(s.endTimeUnixNano),
          attributes: pbAttributes(s.attributes),
          events: s.events.map((e) => ({
            name: e.name,
            timeNanos: pbNanos(e.timeUnixNano),
            attributes: pbAttributes(e.attributes),
          })),
          links: s.links.map((l) => ({
            traceId: hexOf(l.traceId),
            spanId: hexOf(l.spanId),
            attributes: pbAttributes(l.attributes),
          })),
          status: { code: s.status?.code ?? 0, message: s.status?.message ?? '' },
          resource,
          scope,
        });
      }
    }
  }
  return out;
}

/** The success answer, with `partialSuccess` when some spans were rejected. */
export function encodeResponse(
  format: 'protobuf' | 'json',
  rejected: number,
  errorMessage: string,
): Buffer | Record<string, unknown> {
  const body = rejected ? { partialSuccess: { rejectedSpans: rejected, errorMessage } } : {};
  if (format === 'json')
    return rejected ? { partialSuccess: { rejectedSpans: String(rejected), errorMessage } } : {};
  return Buffer.from(Response.encode(Response.fromObject(body)).finish());
}

/** A failure answer: a google.rpc.Status (code 3, INVALID_ARGUMENT), as OTLP/HTTP asks. */
export function encodeStatus(format: 'protobuf' | 'json', message: string): Buffer | Record<string, unknown> {
  if (format === 'json') return { code: 3, message };
  return Buffer.from(RpcStatus.encode(RpcStatus.fromObject({ code: 3, message })).finish());
}
