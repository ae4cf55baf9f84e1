import {
  type Attributes,
  type HrTime,
  type Link,
  SpanKind,
  SpanStatusCode,
  TraceFlags,
} from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace';
import type { Logger } from '../types.ts';
import type { SpanRecord } from './step-observer.ts';

/** What the exporter is given: a span record with its trace id resolved. */
export interface ExportSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string | null;
  name: string;
  kind: string;
  status: 'unset' | 'ok' | 'error';
  statusMessage?: string | undefined;
  start: Date;
  end: Date;
  attributes: Attributes;
  links?: { traceId: string; spanId: string }[];
}

const hr = (d: Date): HrTime => [Math.floor(d.getTime() / 1000), (d.getTime() % 1000) * 1_000_000];

/**
 * Export of the engine's spans through the OpenTelemetry JS SDK (OTLP/HTTP protobuf, batched) when the
 * standard variables ask for it: `OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`,
 * with `OTEL_EXPORTER_OTLP_HEADERS`, `OTEL_EXPORTER_OTLP_COMPRESSION`, `OTEL_SERVICE_NAME` and the
 * `OTEL_BSP_*` batch settings read by the SDK itself. Off otherwise (no cost).
 */
export class OtelExport {
  private readonly processor: BatchSpanProcessor;
  private readonly resource = resourceFromAttributes({
    'service.name': process.env.OTEL_SERVICE_NAME || 'aiops-studio',
  });

  static fromEnv(log: Logger): OtelExport | undefined {
    const env = process.env;
    if (!env.OTEL_EXPORTER_OTLP_ENDPOINT && !env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return undefined;
    if (env.OTEL_TRACES_EXPORTER === 'none' || env.OTEL_SDK_DISABLED === 'true') return undefined;
    return new OtelExport(log);
  }

  private constructor(private readonly log: Logger) {
    this.processor = new BatchSpanProcessor({ exporter: new OTLPTraceExporter() });
  }

  export(spans: ExportSpan[]): void {
    for (const s of spans) {
      try {
        this.processor.onEnd(this.readable(s));
      } catch (err) {
        this.log.warn({ err }, 'span not exported');
      }
    }
  }

  private readable(s: ExportSpan): ReadableSpan {
    const context = { traceId: s.traceId, spanId: s.spanId, traceFlags: TraceFlags.SAMPLED };
    const links: Link[] = (s.links ?? []).map((l) => ({
      context: { traceId: l.traceId, spanId: l.spanId, traceFlags: TraceFlags.SAMPLED },
    }));
    const duration = Math.max(0, s.end.getTime() - s.start.getTime());
    return {
      name: s.name,
      kind: s.kind === 'model' || s.kind === 'tool' || s.kind === 'mcp' ? SpanKind.CLIENT : SpanKind.INTERNAL,
      spanContext: () => context,
      ...(s.parentSpanId
        ? {
            parentSpanContext: { traceId: s.traceId, spanId: s.parentSpanId, traceFlags: TraceFlags.SAMPLED },
          }
        : {}),
      startTime: hr(s.start),
      endTime: hr(s.end),
      status: {
        code:
          s.status === 'ok'
            ? SpanStatusCode.OK
            : s.status === 'error'
              ? SpanStatusCode.ERROR
              : SpanStatusCode.UNSET,
        ...(s.statusMessage ? { message: s.statusMessage } : {}),
      },
      attributes: { ...s.attributes, 'aiops.span.kind': s.kind },
      links,
      events: [],
      duration: [Math.floor(duration / 1000), (duration % 1000) * 1_000_000],
      ended: true,
      resource: this.resource,
      instrumentationScope: { name: '@aiops/engine' },
      droppedAttributesCount: 0,
      droppedEventsCount: 0,
      droppedLinksCount: 0,
    };
  }

  async shutdown(): Promise<void> {
    await this.processor
      .shutdown()
      .catch((err: unknown) => this.log.warn({ err }, 'span export shutdown failed'));
  }
}

/** OTel attributes: scalars and arrays of scalars only; the rest as JSON text. */
export function attributesOf(r: SpanRecord): Attributes {
  const out: Attributes = {
    'aiops.run.id': r.run_id,
    'aiops.node.id': r.node_id,
    ...(r.model ? { 'gen_ai.response.model': r.model } : {}),
    ...(r.cost ? { 'aiops.cost_usd': r.cost } : {}),
  };
  for (const [k, v] of Object.entries(r.attributes)) {
    if (v === undefined || v === null) continue;
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[k] = v;
    else if (Array.isArray(v) && v.every((x) => typeof x === 'string')) out[k] = v as string[];
    else out[k] = JSON.stringify(v);
  }
  return out;
}
