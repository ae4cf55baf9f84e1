import { gzipSync } from 'node:zlib';
import { queryRows } from '@aiops/db';
import { testBackend } from '@aiops/testing';
import { context, SpanStatusCode, trace } from '@opentelemetry/api';
import { OTLPTraceExporter as HttpExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { SimpleSpanProcessor, type SpanExporter, TracerProvider } from '@opentelemetry/sdk-trace';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type SignedUp, signUp, startTestServer, type TestServer } from '../../test-support.ts';

let s: TestServer;
let owner: SignedUp;
let ingestKey: string;
let readKey: string;

beforeAll(async () => {
  s = await startTestServer();
  owner = await signUp(s);
  const key = async (scopes: string[]) => {
    const r = await call(s, 'POST', '/api/v1/api-keys', {
      token: owner.token,
      body: { name: scopes[0], scopes },
    });
    expect(r.status).toBe(201);
    return r.body.key as string;
  };
  ingestKey = await key(['trace:ingest']);
  readKey = await key(['run:read']);
}, 60_000);
afterAll(() => s?.close());

/** An outside agent: one request span with a GenAI child (tokens, no cost) and a failing tool call. */
async function sendAgentTrace(exporter: SpanExporter, service: string): Promise<string> {
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': service }),
    spanProcessors: [new SimpleSpanProcessor({ exporter })],
  });
  const tracer = provider.getTracer('outside-agent', '1.0.0');
  const root = tracer.startSpan('handle ticket', { attributes: { 'app.tag': 'vip' } });
  const ctx = trace.setSpan(context.active(), root);
  // Explicit start times a millisecond apart: siblings are listed by start time, and two spans started in
  // the same microsecond would come back in either order.
  const t0 = Date.now();
  const chat = tracer.startSpan(
    'chat gpt-4o-mini',
    {
      attributes: {
        'gen_ai.operation.name': 'chat',
        'gen_ai.provider.name': 'openai',
        'gen_ai.request.model': 'gpt-4o-mini',
        'gen_ai.usage.input_tokens': 1_000,
        'gen_ai.usage.output_tokens': 500,
      },
      startTime: t0,
    },
    ctx,
  );
  chat.end(t0 + 1);
  const tool = tracer.startSpan(
    'execute_tool lookup',
    { attributes: { 'gen_ai.tool.name': 'lookup' }, startTime: t0 + 2 },
    ctx,
  );
  tool.setStatus({ code: SpanStatusCode.ERROR, message: 'not found' });
  tool.end(t0 + 3);
  root.end(t0 + 4);
  await provider.forceFlush();
  await provider.shutdown();
  return root.spanContext().traceId;
}

const url = () => `${s.url}/api/v1/otel/v1/traces`;

describe(`OTLP ingest on ${testBackend()}`, () => {
  for (const [name, make] of [
    [
      'protobuf (exporter-trace-otlp-proto, gzip)',
      () =>
        new ProtoExporter({
          url: url(),
          headers: { authorization: `Bearer ${ingestKey}` },
          compression: 'gzip' as never,
        }),
    ],
    [
      'JSON (exporter-trace-otlp-http)',
      () => new HttpExporter({ url: url(), headers: { authorization: `Bearer ${ingestKey}` } }),
    ],
  ] as const) {
    it(`stores spans sent by the official ${name} exporter, priced from our catalog`, async () => {
      const service = `agent-${name.slice(0, 4)}`;
      const traceId = await sendAgentTrace(make(), service);
      const got = await call(s, 'GET', `/api/v1/traces/${traceId}`, { token: owner.token });
      expect(got.status).toBe(200);
      const spans = got.body.spans as {
        name: string;
        depth: number;
        kind: string;
        status: string;
        model: string | null;
        inputTokens: number | null;
        cost: string | null;
        attributes: Record<string, unknown>;
      }[];
      expect(spans.map((x) => [x.depth, x.name])).toEqual([
        [0, 'handle ticket'],
        [1, 'chat gpt-4o-mini'],
        [1, 'execute_tool lookup'],
      ]);
      const chat = spans[1]!;
      expect(chat).toMatchObject({ kind: 'model', model: 'openai:gpt-4o-mini', inputTokens: 1000 });
      // gpt-4o-mini: $0.15 per million input tokens, $0.60 per million output tokens.
      expect(Number(chat.cost)).toBeCloseTo(0.00045, 9);
      expect(spans[2]!.status).toBe('error');
      expect(spans[0]!.attributes['app.tag']).toBe('vip');
      // As stored: absent JSON values are SQL NULL (not the JSON null), the resource and scope are kept.
      const stored = await s.database.db.system((tx) =>
        queryRows<{
          name: string;
          input: unknown;
          events: unknown;
          links: unknown;
          resource: unknown;
          scope: unknown;
        }>(
          tx,
          sql`SELECT name, input, events, links, resource, attributes->>'otel.scope.name' AS scope FROM spans
            WHERE trace_id = ${traceId} AND input IS NULL AND events IS NULL AND links IS NULL ORDER BY name`,
        ),
      );
      expect(stored.map((r) => r.name)).toEqual(['chat gpt-4o-mini', 'execute_tool lookup', 'handle ticket']);
      expect(stored[2]!.resource).toMatchObject({ 'service.name': service });
      expect(stored.map((r) => r.scope)).toEqual(['outside-agent', 'outside-agent', 'outside-agent']);
      const list = await call(s, 'GET', `/api/v1/traces?source=otlp&q=${service}`, { token: owner.token });
      expect(list.body.data).toEqual([
        expect.objectContaining({
          traceId,
          source: 'otlp',
          name: 'handle ticket',
          serviceName: service,
          models: ['openai:gpt-4o-mini'],
        }),
      ]);
      expect(Number(list.body.data[0].cost)).toBeCloseTo(0.00045, 9);
      const byModel = await call(s, 'GET', `/api/v1/traces?source=otlp&model=gpt-4o&tag=vip&minCost=0.0004`, {
        token: owner.token,
      });
      expect(byModel.body.data.map((t: { traceId: string }) => t.traceId)).toContain(traceId);
      const other = await signUp(s);
      expect((await call(s, 'GET', `/api/v1/traces/${traceId}`, { token: other.token })).status).toBe(404);
    });
  }

  it('answers 400 with a Status for a body that is not OTLP; partial success for spans it cannot keep', async () => {
    const headers = { authorization: `Bearer ${ingestKey}` };
    const garbage = await fetch(url(), {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/x-protobuf' },
      body: new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f]),
    });
    expect(garbage.status).toBe(400);
    const notJson = await fetch(url(), {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: '{"resourceSpans": [',
    });
    expect(notJson.status).toBe(400);
    expect(await notJson.json()).toMatchObject({ code: 3, message: expect.stringMatching(/not JSON/) });
    const badGzip = await fetch(url(), {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body: 'nope',
    });
    expect(badGzip.status).toBe(400);
    const now = `${BigInt(Date.now()) * 1_000_000n}`;
    const span = (traceId: string, spanId: string) => ({
      traceId,
      spanId,
      name: 'x',
      kind: 1,
      startTimeUnixNano: now,
      endTimeUnixNano: now,
    });
    const mixed = await fetch(url(), {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body: gzipSync(
        JSON.stringify({
          resourceSpans: [
            {
              scopeSpans: [
                {
                  spans: [
                    span('aa'.repeat(16), 'bb'.repeat(8)),
                    span('zz', 'bb'.repeat(8)),
                    span('cc'.repeat(16), '00'.repeat(8)),
                  ],
                },
              ],
            },
          ],
        }),
      ),
    });
    expect(mixed.status).toBe(200);
    expect(await mixed.json()).toEqual({
      partialSuccess: {
        rejectedSpans: '2',
        errorMessage: expect.stringMatching(/1 span\(s\): trace id .*1 span\(s\): span id/),
      },
    });
    const unsupported = await fetch(url(), {
      method: 'POST',
      headers: { ...headers, 'content-type': 'text/plain' },
      body: 'x',
    });
    expect(unsupported.status).toBe(415);
  });

  it('needs the trace:ingest scope', async () => {
    const body = JSON.stringify({ resourceSpans: [] });
    const wrong = await fetch(url(), {
      method: 'POST',
      headers: { authorization: `Bearer ${readKey}`, 'content-type': 'application/json' },
      body,
    });
    expect(wrong.status).toBe(403);
    const none = await fetch(url(), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    expect(none.status).toBe(401);
    const ok = await fetch(url(), {
      method: 'POST',
      headers: { authorization: `Bearer ${ingestKey}`, 'content-type': 'application/json' },
      body,
    });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({});
  });
});
