/**
 * `npm run bench:observability`, on PostgreSQL:
 *  1. OTLP ingest: spans/s through `POST /api/v1/otel/v1/traces` in protobuf requests of 512 spans (made by
 *     the OpenTelemetry serializer; a quarter are GenAI spans priced from the catalog), every span new,
 *     sent by BENCH_OTLP_CLIENTS (4) clients at once; the server is a separate process (API and worker).
 *  2. The engine's cost of logging and tracing: bench:engine's cells (async runs, 50 connections, 1 and 3
 *     steps) with AIOPS_TRACING=off and on, one server each, alternated.
 * Env: DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test), BENCH_PARTS (otlp,engine),
 * BENCH_OTLP_REQUESTS (160), BENCH_SECONDS (15) and BENCH_WARMUP (3) per engine cell, BENCH_QUICK=1.
 */
import { randomBytes } from 'node:crypto';
import { createPostgresDatabase, dropPostgresDatabase } from '@aiops/testing';
import { type Attributes, SpanKind, SpanStatusCode, TraceFlags } from '@opentelemetry/api';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  type BenchServer,
  type CellResult,
  type Cpu,
  cell,
  createChain,
  dbCpu,
  pct,
  startServer,
} from './engine-http.ts';

const env = process.env;
const quick = env.BENCH_QUICK === '1';
const adminUrl = env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const parts = (env.BENCH_PARTS ?? 'otlp,engine').split(',');
const BATCH = 512;
const REQUESTS = Number(env.BENCH_OTLP_REQUESTS ?? (quick ? 40 : 160));
const CLIENTS = Number(env.BENCH_OTLP_CLIENTS ?? 4);
const SECONDS = Number(env.BENCH_SECONDS ?? (quick ? 5 : 15));
const WARMUP = Number(env.BENCH_WARMUP ?? (quick ? 1 : 3));
const f = (n: number | undefined, d = 0) => (n === undefined || !Number.isFinite(n) ? '–' : n.toFixed(d));

const resource = resourceFromAttributes({ 'service.name': 'bench-agent' });
const hex = (bytes: number) => randomBytes(bytes).toString('hex');

/** One ExportTraceServiceRequest of `BATCH` new spans: traces of 8 spans (a root and 7 children). */
function body(): Uint8Array {
  const now = Date.now();
  const spans = [];
  let traceId = '';
  let root = '';
  for (let i = 0; i < BATCH; i++) {
    if (i % 8 === 0) {
      traceId = hex(16);
      root = '';
    }
    const spanId = hex(8);
    const genai = i % 4 === 1;
    const attributes: Attributes = genai
      ? {
          'gen_ai.operation.name': 'chat',
          'gen_ai.provider.name': 'openai',
          'gen_ai.request.model': 'gpt-4o-mini',
          'gen_ai.usage.input_tokens': 1200,
          'gen_ai.usage.output_tokens': 300,
        }
      : { 'http.route': '/tickets/:id', 'app.step': i % 8 };
    const start = now - 1000 + (i % 8);
    const context = { traceId, spanId, traceFlags: TraceFlags.SAMPLED };
    spans.push({
      name: genai ? 'chat gpt-4o-mini' : `step ${i % 8}`,
      kind: genai ? SpanKind.CLIENT : SpanKind.INTERNAL,
      spanContext: () => context,
      ...(root ? { parentSpanContext: { traceId, spanId: root, traceFlags: TraceFlags.SAMPLED } } : {}),
      startTime: [Math.floor(start / 1000), (start % 1000) * 1e6] as [number, number],
      endTime: [Math.floor((start + 5) / 1000), ((start + 5) % 1000) * 1e6] as [number, number],
      duration: [0, 5e6] as [number, number],
      status: { code: SpanStatusCode.OK },
      attributes,
      links: [],
      events: [],
      ended: true,
      resource,
      instrumentationScope: { name: 'bench' },
      droppedAttributesCount: 0,
      droppedEventsCount: 0,
      droppedLinksCount: 0,
    });
    if (!root) root = spanId;
  }
  return ProtobufTraceSerializer.serializeRequest(spans as never)!;
}

async function ingestKey(url: string): Promise<string> {
  const post = async <T>(path: string, payload: unknown, token?: string) => {
    const res = await fetch(`${url}/api/v1${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(payload),
    });
    if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  };
  const { token } = await post<{ token: string }>('/auth/signup', {
    email: `otlp-${Date.now()}@example.test`,
    password: 'Bench-Passw0rd-2026!',
    name: 'Bench',
    organizationName: 'Bench OTLP',
  });
  const { key } = await post<{ key: string }>(
    '/api-keys',
    { name: 'otlp', scopes: ['trace:ingest'], rateLimit: 100_000 },
    token,
  );
  return key;
}

async function otlp(s: BenchServer) {
  const key = await ingestKey(s.url);
  const bodies = Array.from({ length: REQUESTS + 8 }, body);
  const send = async (b: Uint8Array) => {
    const t0 = performance.now();
    const res = await fetch(`${s.url}/api/v1/otel/v1/traces`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/x-protobuf' },
      body: b as Uint8Array<ArrayBuffer>,
    });
    const bytes = new Uint8Array(await res.arrayBuffer());
    if (res.status !== 200 || bytes.length)
      throw new Error(`ingest answered ${res.status} (${bytes.length} bytes)`);
    return performance.now() - t0;
  };
  for (const b of bodies.slice(0, 8)) await send(b); // warm-up
  const queue = bodies.slice(8);
  const latencies: number[] = [];
  const cpu0 = await s.call<Cpu>('GET', '/bench/cpu');
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      for (let b = queue.shift(); b; b = queue.shift()) latencies.push(await send(b));
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  const cpu1 = await s.call<Cpu>('GET', '/bench/cpu');
  // CPU per request of 512 spans: less sensitive to a shared machine's load than spans/s.
  const serverCpu = (cpu1.server - cpu0.server) / REQUESTS;
  const db = dbCpu(cpu0, cpu1);
  latencies.sort((a, b) => a - b);
  const spans = REQUESTS * BATCH;
  console.log(`\n## OTLP ingest (PostgreSQL, protobuf, ${BATCH} spans per request, ${CLIENTS} clients)`);
  console.log(
    '| spans | seconds | spans/s | requests/s | request p50 ms | request p99 ms | server CPU ms/request | database CPU ms/request |',
  );
  console.log('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  console.log(
    `| ${spans} | ${f(seconds, 1)} | ${f(spans / seconds)} | ${f(REQUESTS / seconds, 1)} | ${f(pct(latencies, 50))} | ${f(pct(latencies, 99))} | ${f(serverCpu, 1)} | ${f(db === undefined ? undefined : db / REQUESTS, 1)} |`,
  );
}

async function engineCost(target: string) {
  const results = new Map<string, CellResult[]>();
  const order = ['off', 'on', 'off', 'on'];
  for (const tracing of quick ? ['off', 'on'] : order) {
    env.AIOPS_TRACING = tracing;
    const s = await startServer(`postgres tracing ${tracing}`, target);
    try {
      for (const steps of [1, 3]) {
        const wf = await createChain(s, `obs-${tracing}-${steps}-${Date.now()}`, steps);
        const r = await cell(s, wf, { sync: false, connections: 50, seconds: SECONDS, warmup: WARMUP });
        const k = `${steps}:${tracing}`;
        results.set(k, [...(results.get(k) ?? []), r]);
        console.log(
          `  ${steps} step(s), tracing ${tracing}: ${f(r.executed)} runs/s executed, ${f(r.rps)} req/s`,
        );
      }
    } finally {
      await s.stop();
    }
  }
  delete env.AIOPS_TRACING;
  const mean = (xs: CellResult[], k: 'executed' | 'rps') => xs.reduce((a, x) => a + x[k], 0) / xs.length;
  console.log('\n## Engine with logs and spans (bench:engine cells, async, 50 connections, PostgreSQL)');
  console.log('| steps | tracing off runs/s | tracing on runs/s | change |');
  console.log('| ---: | ---: | ---: | ---: |');
  for (const steps of [1, 3]) {
    const off = mean(results.get(`${steps}:off`)!, 'executed');
    const on = mean(results.get(`${steps}:on`)!, 'executed');
    console.log(`| ${steps} | ${f(off)} | ${f(on)} | ${f(((on - off) / off) * 100, 1)}% |`);
  }
}

const target = await createPostgresDatabase(adminUrl);
try {
  if (parts.includes('otlp')) {
    const s = await startServer('postgres', target);
    try {
      await otlp(s);
    } finally {
      await s.stop();
    }
  }
  if (parts.includes('engine')) await engineCost(target);
} finally {
  await dropPostgresDatabase(adminUrl, target);
}
