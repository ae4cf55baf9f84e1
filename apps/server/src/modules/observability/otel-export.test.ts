import { createServer, type Server } from 'node:http';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { testBackend } from '@aiops/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type SignedUp, signUp, startTestServer, type TestServer } from '../../test-support.ts';
import { decodeTraces, type OtlpSpan } from './otlp-decode.ts';

/** A local OTLP/HTTP receiver: keeps every span it is sent. */
let receiver: Server;
const received: OtlpSpan[] = [];
const paths: string[] = [];
let s: TestServer;
let owner: SignedUp;

beforeAll(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      let body = Buffer.concat(chunks);
      if (req.headers['content-encoding'] === 'gzip') body = await promisify(gunzip)(body);
      paths.push(`${req.url} ${req.headers['content-type']} ${req.headers['x-tenant'] ?? ''}`);
      received.push(...decodeTraces(body, 'protobuf'));
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const port = (receiver.address() as { port: number }).port;
  process.env.OTEL_EXPORTER_OTLP_ENDPOINT = `http://127.0.0.1:${port}`;
  process.env.OTEL_EXPORTER_OTLP_HEADERS = 'x-tenant=acme';
  process.env.OTEL_SERVICE_NAME = 'aiops-test';
  process.env.OTEL_BSP_SCHEDULE_DELAY = '50';
  s = await startTestServer({ worker: true });
  owner = await signUp(s);
}, 60_000);
afterAll(async () => {
  await s?.close();
  receiver?.close();
  for (const k of [
    'OTEL_EXPORTER_OTLP_ENDPOINT',
    'OTEL_EXPORTER_OTLP_HEADERS',
    'OTEL_SERVICE_NAME',
    'OTEL_BSP_SCHEDULE_DELAY',
  ])
    delete process.env[k];
});

describe(`export through the OpenTelemetry SDK on ${testBackend()}`, () => {
  it('sends the run, step and model spans of a run to OTEL_EXPORTER_OTLP_ENDPOINT', async () => {
    const wf = await call(s, 'POST', '/api/v1/workflows', {
      token: owner.token,
      body: {
        status: 'active',
        definition: {
          name: 'exported',
          nodes: [{ id: 'ask', type: 'agent', agent: { model: 'simulator:echo', prompt: 'hi' } }],
        },
      },
    });
    const run = await call(s, 'POST', `/api/v1/workflows/${wf.body.id}/runs`, {
      token: owner.token,
      body: { input: {}, wait: 20 },
    });
    expect(run.status).toBe(201);
    const traceId = run.body.id.replaceAll('-', '');
    await expect
      .poll(() => received.filter((x) => x.traceId === traceId).length, { timeout: 10_000 })
      .toBe(3);
    const mine = received.filter((x) => x.traceId === traceId);
    const runSpan = mine.find((x) => x.name === 'run')!;
    const step = mine.find((x) => x.name === 'agent ask')!;
    const model = mine.find((x) => x.name === 'chat simulator:echo')!;
    expect(runSpan.parentSpanId).toBeNull();
    expect(step.parentSpanId).toBe(runSpan.spanId);
    expect(model.parentSpanId).toBe(step.spanId);
    expect(model.kind).toBe('client');
    expect(model.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.request.model': 'simulator:echo',
      'gen_ai.usage.input_tokens': expect.any(Number),
    });
    expect(runSpan.resource['service.name']).toBe('aiops-test');
    expect(paths[0]).toBe('/v1/traces application/x-protobuf acme');
    // The trace the API shows has the same ids.
    const trace = await call(s, 'GET', `/api/v1/runs/${run.body.id}/trace`, { token: owner.token });
    expect(trace.body.spans.map((x: { spanId: string }) => x.spanId).sort()).toEqual(
      mine.map((x) => x.spanId).sort(),
    );
  });

  it('sends the run span of a run cancelled through the API while its step runs', async () => {
    const wf = await call(s, 'POST', '/api/v1/workflows', {
      token: owner.token,
      body: {
        status: 'active',
        definition: {
          name: 'cancelled elsewhere',
          nodes: [
            {
              id: 'slow',
              type: 'agent',
              agent: { model: 'simulator:echo', prompt: 'hi', simulate: { latencyMs: 30_000 } },
            },
          ],
        },
      },
    });
    const run = await call(s, 'POST', `/api/v1/workflows/${wf.body.id}/runs`, {
      token: owner.token,
      body: { input: {} },
    });
    expect(run.status).toBe(202);
    await expect
      .poll(
        async () => (await call(s, 'GET', `/api/v1/runs/${run.body.id}`, { token: owner.token })).body.status,
        {
          timeout: 10_000,
        },
      )
      .toBe('running');
    const cancel = await call(s, 'POST', `/api/v1/runs/${run.body.id}/cancel`, {
      token: owner.token,
      body: {},
    });
    expect(cancel.status).toBe(200);
    const traceId = run.body.id.replaceAll('-', '');
    await expect
      .poll(() => received.find((x) => x.traceId === traceId && x.name === 'run')?.attributes, {
        timeout: 10_000,
      })
      .toMatchObject({ 'aiops.run.status': 'cancelled' });
    const runSpan = received.find((x) => x.traceId === traceId && x.name === 'run')!;
    expect(runSpan.parentSpanId).toBeNull();
  });
});
