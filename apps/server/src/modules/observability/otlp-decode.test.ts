import { type Attributes, SpanKind, SpanStatusCode, TraceFlags } from '@opentelemetry/api';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { describe, expect, it } from 'vitest';
import { rowOf } from './ingest.ts';
import { decodeTraces, Request } from './otlp-decode.ts';

/** Spans as the OpenTelemetry SDK hands them to its serializers. */
function sdkSpans() {
  const resource = resourceFromAttributes({ 'service.name': 'decoder', 'host.cpus': 2 });
  const traceId = 'ab'.repeat(16);
  const span = (spanId: string, over: Record<string, unknown>) => ({
    name: 'step',
    kind: SpanKind.INTERNAL,
    spanContext: () => ({ traceId, spanId, traceFlags: TraceFlags.SAMPLED }),
    startTime: [1_764_900_000, 123_456_789] as [number, number],
    endTime: [1_764_900_001, 5] as [number, number],
    duration: [1, 0] as [number, number],
    status: { code: SpanStatusCode.UNSET },
    attributes: {} as Attributes,
    links: [],
    events: [],
    ended: true,
    resource,
    instrumentationScope: { name: 'scope', version: '1.2.3' },
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
    ...over,
  });
  return [
    span('cd'.repeat(8), {
      attributes: {
        s: 'text',
        b: true,
        i: 42,
        big: 2 ** 40,
        neg: -7,
        d: 1.5,
        arr: ['a', 'b'],
        nums: [1, 2.5],
      },
      status: { code: SpanStatusCode.ERROR, message: 'it broke' },
      events: [{ name: 'retry', time: [1_764_900_000, 500], attributes: { attempt: 2 } }],
      links: [
        {
          context: { traceId: '12'.repeat(16), spanId: '34'.repeat(8), traceFlags: 1 },
          attributes: { l: 'x' },
        },
      ],
    }),
    span('ef'.repeat(8), {
      name: 'chat gpt-4o-mini',
      kind: SpanKind.CLIENT,
      parentSpanContext: { traceId, spanId: 'cd'.repeat(8), traceFlags: TraceFlags.SAMPLED },
      startTime: [1_764_900_000, 999_999_999] as [number, number],
      status: { code: SpanStatusCode.OK },
      attributes: {
        'gen_ai.provider.name': 'openai',
        'gen_ai.request.model': 'gpt-4o-mini',
        'gen_ai.usage.input_tokens': 1_000,
        'gen_ai.usage.output_tokens': 500,
      },
    }),
    span('aa'.repeat(8), {
      kind: SpanKind.PRODUCER,
      startTime: [0, 1_500] as [number, number],
      endTime: [0, 0],
    }),
  ];
}

describe('OTLP decoding', () => {
  it('reads a protobuf request exactly as the same request in OTLP/JSON', () => {
    const spans = sdkSpans();
    const proto = decodeTraces(
      Buffer.from(ProtobufTraceSerializer.serializeRequest(spans as never)!),
      'protobuf',
    );
    const json = decodeTraces(Buffer.from(JsonTraceSerializer.serializeRequest(spans as never)!), 'json');
    expect(proto).toEqual(json);
    expect(proto).toHaveLength(3);
    expect(proto[0]).toMatchObject({
      traceId: 'ab'.repeat(16),
      spanId: 'cd'.repeat(8),
      parentSpanId: null,
      kind: 'internal',
      startNanos: '1764900000123456789',
      endNanos: '1764900001000000005',
      attributes: {
        s: 'text',
        b: true,
        i: 42,
        big: 2 ** 40,
        neg: -7,
        d: 1.5,
        arr: ['a', 'b'],
        nums: [1, 2.5],
      },
      events: [{ name: 'retry', timeNanos: '1764900000000000500', attributes: { attempt: 2 } }],
      links: [{ traceId: '12'.repeat(16), spanId: '34'.repeat(8), attributes: { l: 'x' } }],
      status: { code: 2, message: 'it broke' },
      resource: { 'service.name': 'decoder', 'host.cpus': 2 },
      scope: { name: 'scope', version: '1.2.3' },
    });
    expect(proto[1]).toMatchObject({ parentSpanId: 'cd'.repeat(8), kind: 'client', status: { code: 1 } });
  });

  it('reads every kind of attribute value (kvlist, bytes, 64-bit ints) from protobuf as from OTLP/JSON', () => {
    const value = (json: boolean) => ({
      kv: {
        kvlistValue: {
          values: [
            { key: 'big', value: { intValue: '9007199254740993' } },
            { key: 'small', value: { intValue: '-12' } },
            {
              key: 'nested',
              value: { arrayValue: { values: [{ boolValue: false }, { doubleValue: 0.25 }] } },
            },
          ],
        },
      },
      by: { bytesValue: json ? 'AQID' : Buffer.from([1, 2, 3]) },
      empty: { stringValue: '' },
      none: {},
    });
    const request = (json: boolean) => {
      const id = (hex: string) => (json ? hex : Buffer.from(hex, 'hex'));
      const attrs = Object.entries(value(json)).map(([key, v]) => ({ key, value: v }));
      return {
        resourceSpans: [
          {
            resource: { attributes: attrs },
            scopeSpans: [
              {
                spans: [
                  {
                    traceId: id('12'.repeat(16)),
                    spanId: id('34'.repeat(8)),
                    name: 'kv',
                    startTimeUnixNano: '1764900000000000001',
                    endTimeUnixNano: '18446744073709551615',
                    attributes: attrs,
                    events: [{ name: 'untimed', attributes: attrs }],
                  },
                ],
              },
            ],
          },
        ],
      };
    };
    const proto = decodeTraces(
      Buffer.from(Request.encode(Request.fromObject(request(false))).finish()),
      'protobuf',
    );
    const json = decodeTraces(Buffer.from(JSON.stringify(request(true))), 'json');
    expect(proto).toEqual(json);
    const expected = {
      kv: { big: '9007199254740993', small: -12, nested: [false, 0.25] },
      by: 'AQID',
      empty: '',
      none: null,
    };
    expect(proto[0]).toMatchObject({
      attributes: expected,
      resource: expected,
      events: [{ name: 'untimed', timeNanos: '0', attributes: expected }],
      startNanos: '1764900000000000001',
      endNanos: '18446744073709551615',
      status: { code: 0, message: '' },
      scope: { name: '', version: '' },
      kind: 'unspecified',
    });
  });

  it('turns nanoseconds into microsecond timestamps as BigInt arithmetic does', () => {
    const reference = (nanos: string) => {
      const n = BigInt(nanos);
      const micros = String((n / 1_000n) % 1_000n).padStart(3, '0');
      return new Date(Number(n / 1_000_000n)).toISOString().replace('Z', `${micros}Z`);
    };
    const [base] = decodeTraces(
      Buffer.from(ProtobufTraceSerializer.serializeRequest(sdkSpans() as never)!),
      'protobuf',
    );
    for (const nanos of [
      '1500',
      '999999',
      '1000000',
      '1764900000123456789',
      '1764900000999999999',
      '1764900001000000000',
    ]) {
      const row = rowOf({ ...base!, startNanos: nanos, endNanos: '0', events: [] }, []);
      if (typeof row === 'string') throw new Error(row);
      expect(row.start_time).toBe(reference(nanos));
      expect(row.end_time).toBeNull();
    }
  });
});
