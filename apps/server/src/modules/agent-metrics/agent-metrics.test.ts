import { randomUUID } from 'node:crypto';
import { queryRows } from '@aiops/db';
import { testBackend } from '@aiops/testing';
import { Decimal } from 'decimal.js';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runJobNow } from '../../jobs/scheduler.ts';
import { call, type SignedUp, signUp, startTestServer, type TestServer } from '../../test-support.ts';
import { recordQualityScore } from './quality.ts';
import { rollupAgentMetricsJob } from './rollup-job.ts';
import { queryAgentMetrics } from './service.ts';

let s: TestServer;
let owner: SignedUp;
let agentId: string;
let workflowId: string;
const hourAgo = () => new Date(Date.now() - 3_600_000).toISOString();

beforeAll(async () => {
  s = await startTestServer({ worker: true });
  owner = await signUp(s);
  const agent = await call(s, 'POST', '/api/v1/agents', {
    token: owner.token,
    body: {
      name: 'Measured',
      type: 'analyzer',
      model: 'simulator:echo',
      promptTemplate: 'Echo {{input.text}}',
    },
  });
  expect(agent.status).toBe(201);
  agentId = agent.body.id;
  const wf = await call(s, 'POST', '/api/v1/workflows', {
    token: owner.token,
    body: {
      status: 'active',
      definition: {
        name: 'measured',
        input: { type: 'object', properties: { text: { type: 'string' }, fail: { type: 'boolean' } } },
        nodes: [
          { id: 'say', type: 'agent', agentId },
          {
            id: 'check',
            type: 'agent',
            agent: { model: 'simulator:echo', prompt: 'ok', simulate: { failTimes: 1, failWith: 'fatal' } },
            retry: { maxAttempts: 1 },
          },
        ],
        connections: [{ from: 'say', to: 'check', condition: 'input.fail == true' }],
      },
    },
  });
  expect(wf.status).toBe(201);
  workflowId = wf.body.id;
  for (const fail of [false, false, true]) {
    const r = await call(s, 'POST', `/api/v1/workflows/${workflowId}/runs`, {
      token: owner.token,
      body: { input: { text: 'hello metrics', fail }, wait: 20 },
    });
    expect(r.status).toBe(201);
  }
}, 60_000);
afterAll(async () => {
  await s?.close();
});

const failure = (p: Promise<unknown>) =>
  p.then(
    () => 'succeeded',
    (e: Error) => String((e.cause as Error | undefined)?.message ?? e.message),
  );

const metrics = (token: string, query: string) =>
  call(s, 'GET', `/api/v1/metrics/agents?${query}`, { token });

describe(`agent metrics on ${testBackend()}`, () => {
  it('each agent attempt is one sample with its dimensions, derived from its attempt row', async () => {
    const rows = await s.database.db.system((tx) =>
      queryRows<{
        agent_id: string | null;
        workflow_id: string;
        model: string;
        error: number;
        tokens: number;
      }>(
        tx,
        sql`SELECT agent_id, workflow_id, model, error, tokens, latency_ms FROM agent_metric_samples
            WHERE organization_id = ${owner.organizationId} ORDER BY recorded_at`,
      ),
    );
    expect(rows).toHaveLength(4);
    expect(rows.filter((r) => r.agent_id === agentId)).toHaveLength(3);
    expect(rows.every((r) => r.workflow_id === workflowId)).toBe(true);
    expect(rows.filter((r) => r.error === 0).every((r) => r.model === 'simulator:echo')).toBe(true);
    expect(rows.filter((r) => r.error === 1)).toHaveLength(1);
    expect(rows.filter((r) => r.agent_id === agentId).every((r) => r.tokens > 0)).toBe(true);

    const r = await metrics(owner.token, `agentId=${agentId}&metric=latency&from=${hourAgo()}`);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ metric: 'latency', unit: 'ms', agentId, interval: 'hour' });
    expect(r.body.totals.count).toBe(3);
    expect(r.body.totals.p50).toBeGreaterThanOrEqual(r.body.totals.min);
    expect(r.body.totals.p99).toBeLessThanOrEqual(r.body.totals.max);
    expect(r.body.series[0].at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:00:00Z$/);

    const errors = await metrics(owner.token, `workflowId=${workflowId}&metric=error&from=${hourAgo()}`);
    expect(errors.body.totals).toMatchObject({ count: 4, sum: 1, avg: 0.25 });
    const tokens = await metrics(owner.token, `agentId=${agentId}&metric=tokens&from=${hourAgo()}`);
    expect(tokens.body.totals.sum).toBe(
      rows.filter((x) => x.agent_id === agentId).reduce((a, x) => a + x.tokens, 0),
    );
  });

  it('a failed tool attempt is a sample named by its tool', async () => {
    const other = await signUp(s);
    const wf = await call(s, 'POST', '/api/v1/workflows', {
      token: other.token,
      body: {
        status: 'active',
        definition: {
          name: 'refused call',
          nodes: [
            {
              id: 'fetch',
              type: 'tool',
              tool: 'http_request',
              config: { url: 'http://{{input.host}}/' },
              retry: { maxAttempts: 1 },
            },
          ],
        },
      },
    });
    expect(wf.status).toBe(201);
    const run = await call(s, 'POST', `/api/v1/workflows/${wf.body.id}/runs`, {
      token: other.token,
      body: { input: { host: '127.0.0.1' }, wait: 20 },
    });
    expect(run.body.status).toBe('failed');
    const rows = await s.database.db.system((tx) =>
      queryRows<{ tool: string; error: number; node_id: string }>(
        tx,
        sql`SELECT tool, error, node_id FROM agent_metric_samples WHERE organization_id = ${other.organizationId}`,
      ),
    );
    expect(rows).toEqual([{ tool: 'http_request', error: 1, node_id: 'fetch' }]);
  });

  it('another organization sees none of it, through the API or the database (RLS, partitions revoked)', async () => {
    const other = await signUp(s);
    const theirs = await metrics(other.token, `metric=latency&from=${hourAgo()}`);
    expect(theirs.status).toBe(200);
    expect(theirs.body.totals).toMatchObject({ count: 0, sum: 0, avg: null, p95: null });
    expect(theirs.body.series).toEqual([]);
    const seen = await s.database.db.withTenant(other.organizationId, (tx) =>
      queryRows<{ n: number; samples: number }>(
        tx,
        sql`SELECT (SELECT count(*)::int FROM agent_metrics) AS n, (SELECT count(*)::int FROM agent_metric_samples) AS samples`,
      ),
    );
    expect(seen[0]).toEqual({ n: 0, samples: 0 });
    const month = new Date();
    const partition = `agent_metrics_y${month.getUTCFullYear()}m${String(month.getUTCMonth() + 1).padStart(2, '0')}`;
    expect(
      await failure(
        s.database.db.withTenant(other.organizationId, (tx) =>
          tx.execute(sql`SELECT * FROM ${sql.raw(partition)}`),
        ),
      ),
    ).toMatch(/permission denied/);
    // Rollups are derived data: a tenant cannot write them.
    expect(
      await failure(
        s.database.db.withTenant(owner.organizationId, (tx) =>
          tx.execute(sql`DELETE FROM agent_metrics_hourly`),
        ),
      ),
    ).toMatch(/permission denied/);
  });

  it('rollups equal the raw samples (table rows and query answers, hourly and daily)', async () => {
    const org = (await signUp(s)).organizationId;
    const agent = randomUUID();
    const now = new Date();
    const start = Date.now() - 3 * 86_400_000;
    // Random samples over three days, zeros included, in the partitions of their months.
    await s.database.db.system(async (tx) => {
      for (const offset of [0, 3]) {
        await tx.execute(
          sql`SELECT aiops_ensure_month_partition('agent_metrics', ${new Date(Date.now() - offset * 86_400_000).toISOString().slice(0, 10)}::date)`,
        );
      }
      const rows = Array.from({ length: 600 }, (_, i) => ({
        organization_id: org,
        recorded_at: new Date(start + Math.floor(Math.random() * 3 * 86_400_000)).toISOString(),
        agent_id: i % 3 === 0 ? null : agent,
        model: i % 2 ? 'openai:gpt-4o' : 'simulator:echo',
        tool: i % 5 === 0 ? 'http_request' : '',
        latency_ms: Math.floor(Math.random() ** 3 * 20_000),
        tokens: i % 7 === 0 ? 0 : Math.floor(Math.random() * 4000),
        cost: (Math.random() * 0.02).toFixed(9),
        error: Math.random() < 0.1 ? 1 : 0,
      }));
      await tx.execute(sql`INSERT INTO agent_metrics (organization_id, recorded_at, agent_id, model, tool, latency_ms, tokens, cost, error)
        SELECT organization_id, recorded_at, agent_id, model, tool, latency_ms, tokens, cost, error
        FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) AS x(organization_id uuid, recorded_at timestamptz,
          agent_id uuid, model text, tool text, latency_ms int, tokens int, cost numeric, error smallint)`);
    });
    await runJobNow(rollupAgentMetricsJob, s.app.jobDeps, now);

    // Table rows: every hourly and daily row equals the raw samples' group.
    for (const [table, unit] of [
      ['agent_metrics_hourly', 'hour'],
      ['agent_metrics_daily', 'day'],
    ] as const) {
      const until = await s.database.db.system((tx) =>
        queryRows<{ until: string }>(
          tx,
          sql`SELECT until::text FROM agent_metric_rollup_state WHERE name = ${table === 'agent_metrics_hourly' ? 'hourly' : 'daily'}`,
        ),
      );
      const raw = await s.database.db.system((tx) =>
        queryRows<{ full: string; agent: string; org: string; v: string; key: string }>(
          tx,
          sql`SELECT concat_ws('|', 'full', date_trunc(${unit}, recorded_at, 'UTC')::text, metric, agent_id, model, tool) AS full,
                concat_ws('|', 'agent', date_trunc(${unit}, recorded_at, 'UTC')::text, metric, agent_id, '', '') AS agent,
                concat_ws('|', 'org', date_trunc(${unit}, recorded_at, 'UTC')::text, metric, NULL, '', '') AS org,
                v::text AS v, aiops_metric_key(v::float8) AS key
              FROM agent_metric_samples m CROSS JOIN LATERAL (VALUES ('latency', latency_ms::numeric), ('tokens', tokens::numeric),
                ('cost', cost), ('error', error::numeric)) AS x(metric, v)
              WHERE organization_id = ${org} AND recorded_at < ${until[0]!.until}::timestamptz AND v IS NOT NULL`,
        ),
      );
      const expected = new Map<
        string,
        { count: number; sum: Decimal; min: number; max: number; hist: Record<string, number> }
      >();
      for (const r of raw.flatMap((x) => [x.full, x.agent, x.org].map((g) => ({ ...x, g })))) {
        const e = expected.get(r.g) ?? {
          count: 0,
          sum: new Decimal(0),
          min: Infinity,
          max: -Infinity,
          hist: {},
        };
        e.count += 1;
        e.sum = e.sum.plus(r.v);
        e.min = Math.min(e.min, Number(r.v));
        e.max = Math.max(e.max, Number(r.v));
        e.hist[r.key] = (e.hist[r.key] ?? 0) + 1;
        expected.set(r.g, e);
      }
      const rolled = await s.database.db.system((tx) =>
        queryRows<{
          g: string;
          count: number;
          sum: string;
          min: number;
          max: number;
          hist: Record<string, number>;
        }>(
          tx,
          sql`SELECT concat_ws('|', grain, bucket::text, metric, agent_id, model, tool) AS g, count::int AS count, sum::text AS sum,
                min, max, hist FROM ${sql.raw(table)} WHERE organization_id = ${org}`,
        ),
      );
      expect(rolled.length, table).toBe(expected.size);
      expect(rolled.length).toBeGreaterThan(10);
      for (const r of rolled) {
        const e = expected.get(r.g)!;
        expect(e, r.g).toBeDefined();
        expect({
          count: r.count,
          sum: new Decimal(r.sum).toString(),
          min: r.min,
          max: r.max,
          hist: r.hist,
        }).toEqual({
          count: e.count,
          sum: e.sum.toString(),
          min: e.min,
          max: e.max,
          hist: e.hist,
        });
      }
    }

    const stranger = (await signUp(s)).organizationId;
    for (const table of ['agent_metrics_hourly', 'agent_metrics_daily']) {
      const count = (orgId: string) =>
        s.database.db.withTenant(orgId, (tx) =>
          queryRows<{ n: number }>(tx, sql`SELECT count(*)::int AS n FROM ${sql.raw(table)}`),
        );
      expect((await count(org))[0]!.n, table).toBeGreaterThan(0);
      expect((await count(stranger))[0]!.n, table).toBe(0);
    }

    // Query answers: rollups + raw tail equal the raw samples alone, for every metric and both intervals.
    const from = new Date(start - 3_600_000).toISOString();
    // Every grain: per agent, the whole organization, and filtered by a dimension (full rows).
    const filters = [
      { agentId: agent },
      {},
      { model: 'openai:gpt-4o' },
      { agentId: agent, tool: 'http_request' },
    ];
    for (const metric of ['latency', 'tokens', 'cost', 'error'] as const) {
      for (const interval of ['hour', 'day'] as const) {
        for (const filter of filters) {
          const q = { metric, from, to: now.toISOString(), interval, ...filter };
          const [rolled, raw] = await s.database.db.withTenant(org, async (tx) => [
            await queryAgentMetrics(tx, org, q, { now }),
            await queryAgentMetrics(tx, org, q, { now, rawOnly: true }),
          ]);
          expect(rolled.rollups.hourlyUntil).not.toBeNull();
          expect({ ...rolled, rollups: null }).toEqual({ ...raw, rollups: null });
          expect(rolled.totals.count).toBeGreaterThan(20);
        }
      }
    }
    // Running the job again (same due time) changes nothing.
    const before = await s.database.db.withTenant(org, (tx) =>
      queryAgentMetrics(tx, org, { metric: 'latency', from, interval: 'day' }, { now }),
    );
    await runJobNow(rollupAgentMetricsJob, s.app.jobDeps, now);
    const after = await s.database.db.withTenant(org, (tx) =>
      queryAgentMetrics(tx, org, { metric: 'latency', from, interval: 'day' }, { now }),
    );
    expect(after).toEqual(before);
  });

  it('records a quality score for an attempt (the evaluations seam) and queries it', async () => {
    const [attempt] = await s.database.db.withTenant(owner.organizationId, (tx) =>
      queryRows<{ id: string }>(tx, sql`SELECT id FROM agent_executions WHERE agent_id = ${agentId} LIMIT 1`),
    );
    await s.database.db.withTenant(owner.organizationId, (tx) =>
      recordQualityScore(tx, { agentExecutionId: attempt!.id, score: 87.5 }),
    );
    const other = await signUp(s);
    await expect(
      s.database.db.withTenant(other.organizationId, (tx) =>
        recordQualityScore(tx, { agentExecutionId: attempt!.id, score: 50 }),
      ),
    ).rejects.toMatchObject({ status: 404 });
    const r = await metrics(owner.token, `agentId=${agentId}&metric=quality&from=${hourAgo()}`);
    expect(r.body.totals).toMatchObject({ count: 1, sum: 87.5, min: 87.5, max: 87.5, p50: 87.5 });
  });

  it('refuses windows it cannot answer with a 400 that says what to fix', async () => {
    const to = new Date().toISOString();
    const back = await metrics(owner.token, `metric=latency&from=${to}&to=${hourAgo()}`);
    expect(back.status).toBe(400);
    expect(back.body.error.message).toMatch(/to: must be after from/);
    const long = new Date(Date.now() - 40 * 86_400_000).toISOString();
    const hourly = await metrics(owner.token, `metric=latency&from=${long}&interval=hour`);
    expect(hourly.status).toBe(400);
    expect(hourly.body.error.message).toMatch(/at most 31 days.*interval=day/);
    const bad = await metrics(owner.token, `metric=nope&from=${to}`);
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.issues[0].path).toBe('query.metric');
  });
});
