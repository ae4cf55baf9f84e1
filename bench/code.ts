/**
 * `npm run bench:code`: code-step overhead in the sandbox (issue 21). A trivial function (`return
 * input.n + 1`) through `CodeSandbox.run` — thread hand-off, fresh QuickJS runtime and context, prelude,
 * argument JSON, result JSON — one at a time (latency p50/p99) and with every thread busy (throughput),
 * then the process's memory across BENCH_RUNS executions (default 10,000) to show it does not grow.
 * Env: BENCH_THREADS (2), BENCH_RUNS (10000), BENCH_LATENCY_RUNS (2000).
 */
import { PLANS } from '@aiops/core';
import { CodeSandbox } from '@aiops/engine';

const env = process.env;
const threads = Number(env.BENCH_THREADS ?? 2);
const runs = Number(env.BENCH_RUNS ?? 10_000);
const latencyRuns = Number(env.BENCH_LATENCY_RUNS ?? 2_000);
const limits = PLANS.starter.resources.code;
const sandbox = new CodeSandbox(threads);
const job = (n: number) =>
  sandbox.run({
    code: 'return input.n + 1',
    language: 'javascript',
    input: { n },
    nodes: {},
    variables: {},
    limits,
  });

const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
const mb = (b: number) => `${(b / 1024 / 1024).toFixed(1)} MB`;

// warm-up: start every thread of the class
await Promise.all(Array.from({ length: threads * 20 }, (_, i) => job(i)));

const latencies: number[] = [];
for (let i = 0; i < latencyRuns; i++) {
  const t = performance.now();
  const r = await job(i);
  latencies.push(performance.now() - t);
  if (!r.ok || r.output !== i + 1) throw new Error(`wrong result: ${JSON.stringify(r)}`);
}
latencies.sort((a, b) => a - b);
console.log(
  `trivial code step, one at a time (${latencyRuns} runs): p50 ${pct(latencies, 0.5).toFixed(2)} ms, p99 ${pct(latencies, 0.99).toFixed(2)} ms`,
);

const memory = () => {
  globalThis.gc?.();
  return process.memoryUsage();
};
const before = memory();
const started = performance.now();
let done = 0;
const samples: string[] = [];
async function lane(): Promise<void> {
  while (done < runs) {
    const i = done++;
    const r = await job(i);
    if (!r.ok) throw new Error(JSON.stringify(r.error));
    if ((i + 1) % Math.floor(runs / 4) === 0) samples.push(`${i + 1}: rss ${mb(process.memoryUsage().rss)}`);
  }
}
await Promise.all(Array.from({ length: threads * 2 }, lane));
const seconds = (performance.now() - started) / 1000;
const after = memory();
console.log(
  `throughput with ${threads} threads busy: ${(runs / seconds).toFixed(0)} executions/s (${runs} in ${seconds.toFixed(1)} s)`,
);
console.log(`memory over ${runs} executions: ${samples.join(', ')}`);
console.log(
  `  rss ${mb(before.rss)} → ${mb(after.rss)}, heap used ${mb(before.heapUsed)} → ${mb(after.heapUsed)} (main thread; sandbox threads' WebAssembly memory is inside rss)`,
);
await sandbox.close();
