/** Diagnostic client: N keep-alive connections POST runs; per request: sent, seen by the server, answered. */
import http from 'node:http';
import { performance } from 'node:perf_hooks';

const [url, key, workflowId, mode = 'sync', conns = '50', secs = '10'] = process.argv.slice(2);
const now = () => performance.timeOrigin + performance.now();
const agent = new http.Agent({ keepAlive: true, maxSockets: Number(conns) });
const body = JSON.stringify(mode === 'sync' ? { input: { n: 1 }, wait: 30 } : { input: { n: 1 } });
const u = new URL(`${url}/api/v1/workflows/${workflowId}/runs`);
const rows: { sent: number; seen: number; done: number; status: number }[] = [];
const end = Date.now() + Number(secs) * 1000;
const one = () =>
  new Promise<void>((resolve) => {
    const sent = now();
    const req = http.request(
      {
        host: u.hostname,
        port: u.port,
        path: u.pathname,
        method: 'POST',
        agent,
        headers: {
          authorization: `Bearer ${key}`,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => {
          rows.push({ sent, seen: Number(res.headers['x-t-req']), done: now(), status: res.statusCode ?? 0 });
          resolve();
        });
      },
    );
    req.on('error', () => resolve());
    req.end(body);
  });
await Promise.all(
  Array.from({ length: Number(conns) }, async () => {
    while (Date.now() < end) await one();
  }),
);
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};
const before = rows.map((r) => r.seen - r.sent);
const inside = rows.map((r) => r.done - r.seen);
const total = rows.map((r) => r.done - r.sent);
const f = (xs: number[]) =>
  `p50 ${pct(xs, 50).toFixed(0)} p99 ${pct(xs, 99).toFixed(0)} max ${Math.max(...xs).toFixed(0)}`;
console.log(
  JSON.stringify({
    n: rows.length,
    rps: rows.length / Number(secs),
    non2xx: rows.filter((r) => r.status >= 300).length,
    beforeServerSeesIt: f(before),
    serverToClientDone: f(inside),
    total: f(total),
  }),
);
const slow = [...rows].sort((a, b) => b.done - b.sent - (a.done - a.sent)).slice(0, 5);
for (const r of slow)
  console.log(
    `slow: total ${(r.done - r.sent).toFixed(0)} before ${(r.seen - r.sent).toFixed(0)} after ${(r.done - r.seen).toFixed(0)}`,
  );
agent.destroy();
