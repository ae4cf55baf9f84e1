/**
 * Diagnostic: bench/engine-server.ts with timestamps (request event -> response finish), event-loop delay,
 * and the time each PGlite call blocks synchronously. Writes a JSON summary to PROBE_OUT on SIGTERM.
 */
import { writeFileSync } from 'node:fs';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { PGlite } from '@electric-sql/pglite';

const now = () => performance.timeOrigin + performance.now();
const syncMs: number[] = [];
const proto = PGlite.prototype as unknown as Record<string, (...a: unknown[]) => unknown>;
const orig = proto.execProtocolRawSync!;
proto.execProtocolRawSync = function (this: unknown, ...a: unknown[]) {
  const t = performance.now();
  try {
    return orig.apply(this, a);
  } finally {
    syncMs.push(performance.now() - t);
  }
};
const eld = monitorEventLoopDelay({ resolution: 10 });
eld.enable();
// Lateness of a 50 ms interval: how long the loop went without reaching its timers.
const stalls: number[] = [];
let last = performance.now();
setInterval(() => {
  const t = performance.now();
  stalls.push(t - last - 50);
  last = t;
}, 50).unref();

const handled: number[] = [];
const http = (await import('node:http')).default;
const create = http.createServer;
(http as unknown as Record<string, unknown>).createServer = (...a: unknown[]) => {
  const server = (create as (...x: unknown[]) => import('node:http').Server)(...a);
  server.prependListener('request', (_req, res) => {
    const t0 = now();
    res.setHeader('x-t-req', t0.toFixed(1));
    res.once('finish', () => handled.push(now() - t0));
  });
  return server;
};
process.on('SIGTERM', () => {
  const pct = (xs: number[], p: number) => {
    const s = [...xs].sort((a, b) => a - b);
    return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
  };
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  writeFileSync(
    process.env.PROBE_OUT ?? '/tmp/probe.json',
    JSON.stringify({
      pglite: {
        calls: syncMs.length,
        totalMs: sum(syncMs),
        p50: pct(syncMs, 50),
        p99: pct(syncMs, 99),
        max: Math.max(...syncMs),
      },
      eventLoop: { p50: eld.percentile(50) / 1e6, p99: eld.percentile(99) / 1e6, max: eld.max / 1e6 },
      timerLateness: {
        p50: pct(stalls, 50),
        p99: pct(stalls, 99),
        max: Math.max(...stalls),
        over500: stalls.filter((s) => s > 500).length,
      },
      handlerMs: {
        n: handled.length,
        p50: pct(handled, 50),
        p99: pct(handled, 99),
        max: Math.max(...handled),
      },
    }),
  );
});
await import('./engine-server.ts');
