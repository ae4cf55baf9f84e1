/**
 * `npm run bench:providers`: the per-call overhead of our provider layer (createModelPort: credentials,
 * pricing, usage normalization, error mapping) over a bare AI SDK `generateText` against the same local
 * fake OpenAI server, p50 and p99; and the simulator's per-call cost, which the engine benchmark pays.
 *
 * Calls alternate between the two clients so that both see the same machine noise. Overhead is reported
 * as the difference of the percentiles. Bounded: a fixed number of calls to 127.0.0.1 only.
 */
import { createOpenAI } from '@ai-sdk/openai';
import { createModelPort, createSimulatorProvider, outboundPolicy, warmTokenizer } from '@aiops/providers';
import { openAIWireFormat, type RecordedRequest, startFakeOpenAI } from '@aiops/testing';
import { generateText } from 'ai';

const CALLS = Number(process.env.BENCH_CALLS ?? 3_000);
const WARMUP = 300;
const ORG = '00000000-0000-0000-0000-000000000001';
const KEY = 'sk-bench-0000000000000000';

const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
const fmt = (ms: number) => (ms >= 1 ? `${ms.toFixed(3)} ms` : `${(ms * 1000).toFixed(1)} µs`);

/** An in-process fetch that answers like the fake OpenAI server, without sockets (less noise at p99). */
function inProcessFetch(): typeof fetch {
  const wire = openAIWireFormat('openai');
  return (async (_url: unknown, init?: RequestInit) => {
    const req: RecordedRequest = {
      method: 'POST',
      path: '/v1/chat/completions',
      headers: {},
      body: JSON.parse(String(init?.body ?? '{}')) as Record<string, unknown>,
    };
    const answer = wire.json({ kind: 'text', text: 'The order shipped yesterday.' }, req, {
      input: 42,
      output: 7,
    });
    return new Response(JSON.stringify(answer.body), {
      status: 200,
      headers: { 'content-type': 'application/json' },
    });
  }) as typeof fetch;
}

type Call = () => Promise<unknown>;

/** Alternates the two calls; returns each one's sorted latencies. */
async function measure(bare: Call, ours: Call): Promise<[number[], number[]]> {
  for (let i = 0; i < WARMUP; i++) {
    await bare();
    await ours();
  }
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < CALLS; i++) {
    let t = performance.now();
    await bare();
    a.push(performance.now() - t);
    t = performance.now();
    await ours();
    b.push(performance.now() - t);
  }
  return [a.sort((x, y) => x - y), b.sort((x, y) => x - y)];
}

function report(title: string, [a, b]: [number[], number[]]) {
  console.log(title);
  console.log(`  bare AI SDK generateText   p50 ${fmt(pct(a, 50))}  p99 ${fmt(pct(a, 99))}`);
  console.log(`  createModelPort().call     p50 ${fmt(pct(b, 50))}  p99 ${fmt(pct(b, 99))}`);
  console.log(
    `  overhead                   p50 ${fmt(pct(b, 50) - pct(a, 50))}  p99 ${fmt(pct(b, 99) - pct(a, 99))}`,
  );
}

function clients(baseUrl: string, fetchImpl?: typeof fetch): [Call, Call] {
  const openai = createOpenAI({ apiKey: KEY, baseURL: baseUrl, ...(fetchImpl ? { fetch: fetchImpl } : {}) });
  const bare = () =>
    generateText({
      model: openai.chat('gpt-4o-mini'),
      system: 'You answer tersely.',
      prompt: 'Where is order A-17?',
      maxRetries: 0,
    });
  const port = createModelPort({
    // the fake server listens on loopback: an organization that allows private networks
    resolveIntegration: (_org, _id, provider) => ({
      provider,
      apiKey: KEY,
      baseUrl,
      config: {},
      network: outboundPolicy({ allowPrivateNetworks: true }),
    }),
    ...(fetchImpl ? { fetch: fetchImpl } : {}),
  });
  const ours = async () => {
    const r = await port.call({
      model: 'openai:gpt-4o-mini',
      system: 'You answer tersely.',
      prompt: 'Where is order A-17?',
      attempt: 1,
      idempotencyKey: 'bench',
      organizationId: ORG,
      signal: new AbortController().signal,
    });
    if (r.usage.inputTokens !== 42 || !(r.costUsd > 0)) throw new Error('usage or cost missing');
  };
  return [bare, ours];
}

async function main() {
  warmTokenizer();
  (globalThis as { AI_SDK_LOG_WARNINGS?: unknown }).AI_SDK_LOG_WARNINGS = false;
  const server = await startFakeOpenAI('openai', { apiKey: KEY });
  server.replyByDefault({
    kind: 'text',
    text: 'The order shipped yesterday.',
    usage: { input: 42, output: 7 },
  });
  const overHttp = await measure(...clients(server.baseUrl));
  await server.close();
  const inProcess = await measure(...clients('http://in-process/v1', inProcessFetch()));

  const sim = createSimulatorProvider();
  const signal = new AbortController().signal;
  const s: number[] = [];
  for (let i = 0; i < 50_000; i++) {
    const t = performance.now();
    await sim.call({
      model: 'simulator:echo',
      prompt: `step ${i % 10}`,
      attempt: 1,
      idempotencyKey: 'k',
      organizationId: ORG,
      signal,
    });
    s.push(performance.now() - t);
  }
  s.sort((x, y) => x - y);

  report(
    `over HTTP to the local fake OpenAI server, ${CALLS} calls each (Node ${process.version}):`,
    overHttp,
  );
  report(`in-process fetch with the same wire answer (no sockets), ${CALLS} calls each:`, inProcess);
  console.log(`simulator:echo at latency 0, 50000 calls: p50 ${fmt(pct(s, 50))}  p99 ${fmt(pct(s, 99))}`);
}

await main();
