import { timingSafeEqual } from 'node:crypto';
import { type Database, queryRows } from '@aiops/db';
import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/**
 * `/metrics` for operators, in Prometheus' text format (prom-client): HTTP latency by route, runs started
 * through this process, and, read from the database at each scrape (so they hold across processes): runs
 * finished by status, active runs, step latency of the last five minutes, the queue's depth and age,
 * workers' leases, and this process's database pool. With `AIOPS_METRICS_TOKEN` set, scrapes must send it
 * as a bearer token.
 */
export function registerMetrics(app: FastifyInstance, db: Database, token: string | undefined) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const http = new Histogram({
    name: 'aiops_http_request_duration_seconds',
    help: 'HTTP request latency by method, route and status',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const started = new Counter({
    name: 'aiops_runs_started_total',
    help: 'Runs started through this process (POST /workflows/:id/runs answered 201 or 202)',
    registers: [registry],
  });
  const sample = async () => {
    const rows = await db.system(async (tx) => ({
      finished: await queryRows<{ completed: string; failed: string; total: string }>(
        tx,
        sql`SELECT coalesce(sum(successful_executions), 0)::text AS completed, coalesce(sum(failed_executions), 0)::text AS failed,
                   coalesce(sum(total_executions), 0)::text AS total FROM workflows`,
      ),
      active: await queryRows<{ status: string; n: number }>(
        tx,
        sql`SELECT status, count(*)::int AS n FROM workflow_executions
            WHERE status IN ('queued', 'pending', 'running', 'paused') GROUP BY status`,
      ),
      queue: await queryRows<{ ready: number; age: number | null; leased: number; workers: number }>(
        tx,
        sql`SELECT count(*) FILTER (WHERE status = 'ready' AND available_at <= now())::int AS ready,
                   extract(epoch FROM now() - min(available_at) FILTER (WHERE status = 'ready' AND available_at <= now()))::float8 AS age,
                   count(*) FILTER (WHERE status = 'running')::int AS leased,
                   count(DISTINCT lease_owner) FILTER (WHERE status = 'running')::int AS workers
            FROM run_steps WHERE status IN ('ready', 'running')`,
      ),
      steps: await queryRows<{ p50: number | null; p95: number | null; n: number }>(
        tx,
        sql`SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_ms)::float8 AS p50,
                   percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms)::float8 AS p95, count(*)::int AS n
            FROM agent_executions WHERE completed_at > now() - interval '5 minutes'`,
      ),
    }));
    return rows;
  };
  const gauge = (name: string, help: string, labelNames: string[] = []) =>
    new Gauge({ name, help, labelNames, registers: [registry] });
  const finished = gauge(
    'aiops_runs_finished',
    'Runs finished, by status (all processes; from the workflows counters)',
    ['status'],
  );
  const active = gauge('aiops_runs_active', 'Runs not finished, by status', ['status']);
  const ready = gauge('aiops_queue_ready_steps', 'Steps ready to run and not yet claimed');
  const age = gauge('aiops_queue_oldest_ready_age_seconds', 'How long the oldest ready step has waited');
  const leased = gauge('aiops_worker_leased_steps', 'Steps leased to workers (executing)');
  const workers = gauge('aiops_workers_with_leases', 'Workers holding at least one lease');
  const stepP = gauge('aiops_step_duration_ms', 'Step attempt duration over the last 5 minutes', [
    'quantile',
  ]);
  const stepN = gauge('aiops_step_attempts_last_5m', 'Step attempts that ended in the last 5 minutes');
  const pool = gauge('aiops_db_pool_connections', "This process's database pool (PostgreSQL)", ['state']);

  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    http.observe(
      { method: request.method, route, status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
    if (
      request.method === 'POST' &&
      route === '/api/v1/workflows/:id/runs' &&
      (reply.statusCode === 201 || reply.statusCode === 202)
    )
      started.inc();
  });

  app.get('/metrics', { schema: { hide: true } }, async (request, reply) => {
    if (token) {
      const given = Buffer.from(String(request.headers.authorization ?? ''));
      const want = Buffer.from(`Bearer ${token}`);
      if (given.length !== want.length || !timingSafeEqual(given, want))
        return reply
          .status(401)
          .type('text/plain')
          .send('metrics need the bearer token AIOPS_METRICS_TOKEN\n');
    }
    const s = await sample();
    const f = s.finished[0]!;
    finished.set({ status: 'completed' }, Number(f.completed));
    finished.set({ status: 'failed' }, Number(f.failed));
    finished.set({ status: 'other' }, Number(f.total) - Number(f.completed) - Number(f.failed));
    for (const st of ['queued', 'pending', 'running', 'paused'])
      active.set({ status: st }, s.active.find((a) => a.status === st)?.n ?? 0);
    const q = s.queue[0]!;
    ready.set(q.ready);
    age.set(q.age ?? 0);
    leased.set(q.leased);
    workers.set(q.workers);
    const st = s.steps[0]!;
    stepP.set({ quantile: '0.5' }, st.p50 ?? 0);
    stepP.set({ quantile: '0.95' }, st.p95 ?? 0);
    stepN.set(st.n);
    const p = db.poolStats?.();
    if (p) {
      pool.set({ state: 'total' }, p.total);
      pool.set({ state: 'idle' }, p.idle);
      pool.set({ state: 'waiting' }, p.waiting);
    }
    return reply.type(registry.contentType).send(await registry.metrics());
  });
}
