import type { Tx } from '@aiops/db';
import { costOf, countTokens, type ModelPrice, PRICE_CATALOG, priceFor } from '@aiops/providers';
import { sql } from 'drizzle-orm';
import type { Attributes, OtlpSpan } from './otlp-decode.ts';

const HEX32 = /^[0-9a-f]{32}$/;
const HEX16 = /^[0-9a-f]{16}$/;
const ZEROS = /^0+$/;
/** Per stored JSON value (attributes, input, output, events): larger values keep a preview. */
const MAX_JSON_CHARS = 65_536;

/** OpenTelemetry GenAI provider names → the provider prefix of our model ids. */
const PROVIDERS: Record<string, string> = {
  'azure.ai.openai': 'openai',
  'az.ai.openai': 'openai',
  'gcp.gemini': 'google',
  'gcp.vertex_ai': 'google',
  'gcp.gen_ai': 'google',
  'aws.bedrock': 'bedrock',
  mistral_ai: 'mistral',
};

/** The catalog id of a GenAI span's model (`provider:model`), if the span names one. */
export function modelIdOf(a: Attributes): string | undefined {
  const model = str(a['gen_ai.response.model']) ?? str(a['gen_ai.request.model']);
  if (!model) return undefined;
  if (model.includes(':')) return model;
  const provider = str(a['gen_ai.provider.name']) ?? str(a['gen_ai.system']);
  return provider ? `${PROVIDERS[provider] ?? provider}:${model}` : model;
}

const str = (v: unknown) => (typeof v === 'string' && v ? v : undefined);
const num = (v: unknown) =>
  typeof v === 'number' && Number.isFinite(v) && v >= 0 ? Math.trunc(v) : undefined;

function text(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function parsed(v: unknown): unknown {
  if (typeof v !== 'string') return v;
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
}

/**
 * A cheap upper bound of `JSON.stringify(v).length` for flat objects of short values (most span
 * attributes), or Infinity when it would take walking deeper: such values are surely within the limit
 * and need no serialization just to be measured.
 */
function flatBound(v: unknown): number {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return Number.POSITIVE_INFINITY;
  let n = 2;
  for (const k in v) {
    const x = (v as Record<string, unknown>)[k];
    // Each character escapes to at most 6 ("\u001f"); numbers and booleans print in at most 24.
    if (typeof x === 'string') n += 6 * (k.length + x.length) + 6;
    else if (typeof x === 'number' || typeof x === 'boolean' || x === null || x === undefined)
      n += 6 * k.length + 30;
    else return Number.POSITIVE_INFINITY;
  }
  return n;
}

/** A stored JSON value (attributes, input, output, events): larger values keep a preview. */
function bounded(v: unknown): unknown {
  if (v === undefined) return null;
  if (flatBound(v) <= MAX_JSON_CHARS) return v;
  const s = JSON.stringify(v);
  if (s === undefined) return null;
  return s.length <= MAX_JSON_CHARS ? v : { truncated: true, chars: s.length, preview: s.slice(0, 4_000) };
}

/** The ISO text of the last second seen (`YYYY-MM-DDTHH:MM:SS.`): spans of a batch mostly share it. */
let lastSecond = { at: Number.NaN, iso: '' };

/** Nanoseconds since the epoch (decimal digits) → an ISO timestamp with microseconds (PostgreSQL keeps microseconds). */
function isoOf(nanos: string): string {
  const digits = nanos.padStart(10, '0');
  const second = Number(digits.slice(0, -9));
  if (second !== lastSecond.at) {
    lastSecond = { at: second, iso: new Date(second * 1000).toISOString().slice(0, 20) };
  }
  return `${lastSecond.iso}${digits.slice(-9, -3)}Z`;
}

export interface SpanRow {
  trace_id: string;
  span_id: string;
  parent_span_id: string | null;
  name: string;
  kind: string;
  status: string;
  status_message: string | null;
  start_time: string;
  end_time: string | null;
  duration_ms: string | null;
  service_name: string | null;
  model: string | null;
  input_tokens: number | null;
  output_tokens: number | null;
  total_tokens: number | null;
  cost: string | null;
  input: unknown;
  output: unknown;
  attributes: unknown;
  events: unknown;
  links: unknown;
  resource: unknown;
}

/** The spans of one resource share its attributes object: serialized once per request, not per span. */
const resources = new WeakMap<Attributes, { json: unknown; serviceName: string | null }>();
function resourceOf(r: Attributes) {
  let got = resources.get(r);
  if (!got) {
    got = { json: bounded(r), serviceName: str(r['service.name'])?.slice(0, 255) ?? null };
    resources.set(r, got);
  }
  return got;
}

/**
 * A stored row for an ingested span, or why it is rejected. GenAI spans (`gen_ai.*` attributes) get their
 * model as our catalog id, tokens (counted from the messages when the span reports none) and cost from
 * our price catalog (the organization's overrides first) when the span carries none.
 */
export function rowOf(s: OtlpSpan, prices: readonly ModelPrice[]): SpanRow | string {
  if (!HEX32.test(s.traceId) || ZEROS.test(s.traceId)) return 'trace id is not 32 hex digits (not all zero)';
  if (!HEX16.test(s.spanId) || ZEROS.test(s.spanId)) return 'span id is not 16 hex digits (not all zero)';
  if (s.parentSpanId !== null && !HEX16.test(s.parentSpanId)) return 'parent span id is not 16 hex digits';
  if (s.startNanos === 'invalid' || s.startNanos === '0') return 'start time is missing';
  if (s.endNanos === 'invalid') return 'end time is not a number of nanoseconds';
  const start = BigInt(s.startNanos);
  const end = s.endNanos === '0' ? null : BigInt(s.endNanos);
  if (start > 4_102_444_800_000_000_000n || (end !== null && end > 4_102_444_800_000_000_000n))
    return 'time is after 2100';
  if (end !== null && end < start) return 'end time is before start time';
  const a = s.attributes;
  const model = modelIdOf(a);
  let inputTokens = num(a['gen_ai.usage.input_tokens']) ?? num(a['gen_ai.usage.prompt_tokens']);
  let outputTokens = num(a['gen_ai.usage.output_tokens']) ?? num(a['gen_ai.usage.completion_tokens']);
  const inputText = text(a['gen_ai.input.messages'] ?? a['gen_ai.prompt']);
  const outputText = text(a['gen_ai.output.messages'] ?? a['gen_ai.completion']);
  const attributes: Attributes = { ...a };
  if (model && (inputTokens === undefined || outputTokens === undefined) && (inputText || outputText)) {
    inputTokens ??= inputText ? countTokens(inputText) : 0;
    outputTokens ??= outputText ? countTokens(outputText) : 0;
    attributes['aiops.usage.estimated'] = true;
  }
  let cost: string | null = null;
  const carried = a['aiops.cost_usd'] ?? a['gen_ai.usage.cost'];
  if (typeof carried === 'number' || (typeof carried === 'string' && /^\d+(\.\d+)?$/.test(carried))) {
    cost = String(carried);
  } else if (model && (inputTokens !== undefined || outputTokens !== undefined)) {
    const price = priceFor(model, new Date(Number(start / 1_000_000n)), prices, PRICE_CATALOG.models);
    if (price) {
      cost = costOf(
        {
          inputTokens: inputTokens ?? 0,
          outputTokens: outputTokens ?? 0,
          cachedInputTokens: num(a['gen_ai.usage.cache_read.input_tokens']) ?? 0,
          reasoningTokens: 0,
          totalTokens: (inputTokens ?? 0) + (outputTokens ?? 0),
          estimated: false,
        },
        price,
      ).usdDecimal;
      attributes['aiops.cost_usd'] = cost;
    } else attributes['aiops.cost.priced'] = false;
  }
  attributes['otel.scope.name'] = s.scope.name || undefined;
  const hasTokens = inputTokens !== undefined || outputTokens !== undefined;
  const resource = resourceOf(s.resource);
  return {
    trace_id: s.traceId,
    span_id: s.spanId,
    parent_span_id: s.parentSpanId,
    name: (s.name || '(unnamed)').slice(0, 500),
    kind: model ? 'model' : s.kind,
    status: s.status.code === 2 ? 'error' : s.status.code === 1 ? 'ok' : 'unset',
    status_message: s.status.message ? s.status.message.slice(0, 4_000) : null,
    start_time: isoOf(s.startNanos),
    end_time: end === null ? null : isoOf(s.endNanos),
    duration_ms: end === null ? null : (Number(end - start) / 1e6).toFixed(3),
    service_name: resource.serviceName,
    model: model?.slice(0, 255) ?? null,
    input_tokens: inputTokens ?? null,
    output_tokens: outputTokens ?? null,
    total_tokens: hasTokens ? (inputTokens ?? 0) + (outputTokens ?? 0) : null,
    cost,
    input: inputText === undefined ? null : bounded(parsed(a['gen_ai.input.messages'] ?? a['gen_ai.prompt'])),
    output:
      outputText === undefined
        ? null
        : bounded(parsed(a['gen_ai.output.messages'] ?? a['gen_ai.completion'])),
    attributes: bounded(attributes),
    events: s.events.length
      ? bounded(
          s.events.map((e) => ({
            name: e.name,
            time: e.timeNanos === '0' ? null : isoOf(e.timeNanos),
            attributes: e.attributes,
          })),
        )
      : null,
    links: s.links.length ? bounded(s.links) : null,
    resource: resource.json,
  };
}

/** Each row as an array in this order: the batch is sent without repeating its keys 512 times. */
function tuple(r: SpanRow): unknown[] {
  return [
    r.trace_id,
    r.span_id,
    r.parent_span_id,
    r.name,
    r.kind,
    r.status,
    r.status_message,
    r.start_time,
    r.end_time,
    r.duration_ms,
    r.service_name,
    r.model,
    r.input_tokens,
    r.output_tokens,
    r.total_tokens,
    r.cost,
    r.input,
    r.output,
    r.attributes,
    r.events,
    r.links,
    r.resource,
  ];
}

/**
 * Stores rows in one statement (the transaction's organization); a span sent again is ignored. The batch
 * travels as one `jsonb` array of arrays (no key repeated per row; `e->n` reads an element in place and
 * hands JSON columns over as `jsonb` without printing and parsing them again).
 */
export async function storeSpans(tx: Tx, organizationId: string, rows: SpanRow[]): Promise<void> {
  if (!rows.length) return;
  // A JSON null inside the array is the jsonb value 'null', not SQL NULL.
  const j = (i: number) => sql.raw(`nullif(e->${i}, 'null')`);
  await tx.execute(
    sql`INSERT INTO spans (organization_id, trace_id, span_id, parent_span_id, name, kind, status, status_message,
                           start_time, end_time, duration_ms, source, service_name, model, input_tokens,
                           output_tokens, total_tokens, cost, input, output, attributes, events, links, resource)
        SELECT ${organizationId}::uuid, e->>0, e->>1, e->>2, e->>3, e->>4, e->>5, e->>6, (e->>7)::timestamptz,
               (e->>8)::timestamptz, (e->>9)::numeric, 'otlp', e->>10, e->>11, (e->>12)::int, (e->>13)::int,
               (e->>14)::int, (e->>15)::numeric, ${j(16)}, ${j(17)}, coalesce(${j(18)}, '{}'), ${j(19)}, ${j(20)},
               ${j(21)}
        FROM jsonb_array_elements(${JSON.stringify(rows.map(tuple))}::jsonb) AS e
        ON CONFLICT DO NOTHING`,
  );
}
