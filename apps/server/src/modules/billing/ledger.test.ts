import { queryRows } from '@aiops/db';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runJobNow } from '../../jobs/scheduler.ts';
import { call, type SignedUp, signUp, startTestServer, type TestServer } from '../../test-support.ts';
import { storageSnapshotJob } from './jobs.ts';
import { recordConversationMessage } from './ledger.ts';

let s: TestServer;
let owner: SignedUp;
let other: SignedUp;
beforeAll(async () => {
  s = await startTestServer({ worker: true });
  owner = await signUp(s);
  other = await signUp(s);
});
afterAll(() => s?.close());

const echo = (id: string, prompt: string, extra: Record<string, unknown> = {}) => ({
  id,
  type: 'agent',
  agent: { model: 'simulator:echo', prompt, ...extra },
});

async function workflow(token: string, name: string, nodes: unknown[], edges: unknown[] = []) {
  const wf = await call(s, 'POST', '/api/v1/workflows', {
    token,
    body: { name, status: 'active', definition: { name, nodes, connections: edges } },
  });
  expect(wf.status).toBe(201);
  return wf.body.id as string;
}

async function run(token: string, workflowId: string) {
  const r = await call(s, 'POST', `/api/v1/workflows/${workflowId}/runs`, {
    token,
    body: { input: {}, wait: 20 },
  });
  expect(r.status).toBe(201);
  expect(r.body.status).toBe('completed');
  return r.body.id as string;
}

/** The database's own message of a failed statement (Drizzle wraps it as the cause). */
async function failure(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return `${(e as Error).message} ${((e as Error).cause as Error | undefined)?.message ?? ''}`;
  }
  return 'no error';
}

/** The engine's own records of an organization: runs, attempts with a model, their tokens and cost. */
async function engineTotals(orgId: string) {
  const [row] = await s.database.db.system((tx) =>
    queryRows<{ runs: string; calls: string; tokens: string; cost: string; run_cost: string }>(
      tx,
      sql`SELECT (SELECT count(*) FROM workflow_executions WHERE organization_id = ${orgId})::text AS runs,
            (SELECT count(*) FROM agent_executions WHERE organization_id = ${orgId} AND model IS NOT NULL)::text AS calls,
            (SELECT coalesce(sum(total_tokens) FILTER (WHERE NOT cached), 0) FROM agent_executions WHERE organization_id = ${orgId})::text AS tokens,
            (SELECT coalesce(sum(estimated_cost), 0) FROM agent_executions WHERE organization_id = ${orgId})::text AS cost,
            (SELECT coalesce(sum(estimated_cost), 0) FROM workflow_executions WHERE organization_id = ${orgId})::text AS run_cost`,
    ),
  );
  return row!;
}

describe('usage ledger', () => {
  let wfA: string;
  let wfB: string;
  it('records every run and every model call in the transaction that writes them; totals equal the engine', async () => {
    // Price the simulator so calls cost something (an organization price override).
    const price = await call(s, 'POST', '/api/v1/prices', {
      token: owner.token,
      body: { model: 'simulator:*', effectiveFrom: '2020-01-01', input: '1000', output: '2000' },
    });
    expect(price.status).toBe(201);
    wfA = await workflow(
      owner.token,
      'two steps',
      [echo('a', 'one two three'), echo('b', 'four five')],
      [{ from: 'a', to: 'b' }],
    );
    // A step that fails once and is retried: two attempts, each billed once.
    wfB = await workflow(owner.token, 'retried', [
      {
        ...echo('x', 'retry me', { simulate: { failTimes: 1 } }),
        retry: { maxAttempts: 2, initialDelayMs: 10, jitter: false },
      },
    ]);
    for (let i = 0; i < 3; i++) await run(owner.token, wfA);
    await run(owner.token, wfB);
    await run(other.token, await workflow(other.token, 'theirs', [echo('a', 'other org')]));

    const engine = await engineTotals(owner.organizationId);
    expect(Number(engine.runs)).toBe(4);
    expect(Number(engine.cost)).toBeGreaterThan(0);
    const byType = await call(s, 'GET', '/api/v1/usage?groupBy=type', { token: owner.token });
    expect(byType.status).toBe(200);
    const t = Object.fromEntries(byType.body.groups.map((g: { key: string }) => [g.key, g]));
    expect(t.workflow_execution).toMatchObject({ records: 4, quantity: 4, cost: '0.000000' });
    expect(t.tokens.records).toBe(Number(engine.calls));
    expect(t.tokens.quantity).toBe(Number(engine.tokens));
    expect(Number(t.tokens.cost)).toBe(Number(engine.cost));
    expect(Number(t.tokens.cost)).toBe(Number(engine.run_cost));
    // by model: the tokens row says which model, input and output
    expect(t.tokens.inputTokens).toBeGreaterThan(0);
    expect(t.tokens.outputTokens).toBeGreaterThan(0);

    // totals equal the sum of the groups, whatever the grouping
    for (const g of ['type', 'day', 'workflow', 'apiKey']) {
      const r = await call(s, 'GET', `/api/v1/usage?groupBy=${g}`, { token: owner.token });
      expect(r.status).toBe(200);
      const sum = r.body.groups.reduce(
        (a: { q: number; n: number; c: number }, x: { quantity: number; records: number; cost: string }) => ({
          q: a.q + x.quantity,
          n: a.n + x.records,
          c: a.c + Number(x.cost),
        }),
        { q: 0, n: 0, c: 0 },
      );
      expect(sum.q).toBe(r.body.total.quantity);
      expect(sum.n).toBe(r.body.total.records);
      expect(sum.c).toBeCloseTo(Number(r.body.total.cost), 9);
    }
    const byWorkflow = await call(s, 'GET', '/api/v1/usage?groupBy=workflow&type=workflow_execution', {
      token: owner.token,
    });
    expect(byWorkflow.body.groups.map((g: { key: string; quantity: number }) => [g.key, g.quantity])).toEqual(
      [
        [wfA, 3],
        [wfB, 1],
      ].sort((x, y) => String(x[0]).localeCompare(String(y[0]))),
    );
    // the other organization sees only its own
    const theirs = await call(s, 'GET', '/api/v1/usage', { token: other.token });
    expect(theirs.body.total.records).toBe(2);
  });

  it('is idempotent: a completion written twice, or a message recorded twice, bills once', async () => {
    const before = await call(s, 'GET', '/api/v1/usage?groupBy=type', { token: owner.token });
    // Replay the latest attempt rows (what a retried completion batch would insert) as the engine's role.
    await s.database.db.system((tx) =>
      tx.execute(sql`INSERT INTO agent_executions (organization_id, workflow_execution_id, node_id, node_type,
          attempt, status, model, input_tokens, output_tokens, total_tokens, estimated_cost)
        SELECT organization_id, workflow_execution_id, node_id, node_type, attempt, status, model, input_tokens,
          output_tokens, total_tokens, estimated_cost
        FROM agent_executions WHERE organization_id = ${owner.organizationId} AND model IS NOT NULL`),
    );
    await s.database.db.withTenant(owner.organizationId, async (tx) => {
      const m = {
        organizationId: owner.organizationId,
        conversationId: crypto.randomUUID(),
        messageId: crypto.randomUUID(),
      };
      expect(await recordConversationMessage(tx, m)).toBe(true);
      expect(await recordConversationMessage(tx, m)).toBe(false);
    });
    const after = await call(s, 'GET', '/api/v1/usage?groupBy=type', { token: owner.token });
    const tokens = (r: typeof before) => r.body.groups.find((g: { key: string }) => g.key === 'tokens');
    expect(tokens(after)).toEqual(tokens(before));
    expect(after.body.total.records).toBe(before.body.total.records + 1);
  });

  it('a crash mid-step (lease lost, step taken over, the late completion refused) bills the run once', async () => {
    const wf = await workflow(owner.token, 'crashy', [
      {
        ...echo('slow', 'slow call', { simulate: { latencyMs: 1500 } }),
        retry: { maxAttempts: 3, initialDelayMs: 10, jitter: false },
      },
    ]);
    const started = await call(s, 'POST', `/api/v1/workflows/${wf}/runs`, {
      token: owner.token,
      body: { input: {} },
    });
    expect(started.status).toBe(202);
    const runId = started.body.id as string;
    const db = s.database.db;
    // Wait until the worker runs the step, then take its lease away as if its process had died.
    await expect
      .poll(
        async () =>
          (
            await db.system((tx) =>
              queryRows<{ n: number }>(
                tx,
                sql`SELECT count(*)::int AS n FROM run_steps WHERE run_id = ${runId} AND status = 'running'`,
              ),
            )
          )[0]!.n,
        { timeout: 10_000, interval: 20 },
      )
      .toBe(1);
    await db.system((tx) =>
      tx.execute(sql`UPDATE run_steps SET lease_owner = 'dead-worker', lease_expires_at = now() - interval '1 second'
        WHERE run_id = ${runId} AND status = 'running'`),
    );
    await expect
      .poll(async () => (await call(s, 'GET', `/api/v1/runs/${runId}`, { token: owner.token })).body.status, {
        timeout: 20_000,
      })
      .toBe('completed');
    const [r] = await db.system((tx) =>
      queryRows<{
        attempts: number;
        lost: number;
        billed: number;
        runs: number;
        cost: string;
        engine_cost: string;
      }>(
        tx,
        sql`SELECT (SELECT count(*)::int FROM agent_executions WHERE workflow_execution_id = ${runId}) AS attempts,
              (SELECT count(*)::int FROM agent_executions WHERE workflow_execution_id = ${runId}
                AND status_reason LIKE 'worker lost%') AS lost,
              (SELECT count(*)::int FROM usage_records WHERE usage_type = 'tokens' AND details->>'runId' = ${runId}) AS billed,
              (SELECT count(*)::int FROM usage_records WHERE usage_type = 'workflow_execution' AND resource_id = ${runId}) AS runs,
              (SELECT coalesce(sum(total_cost), 0)::text FROM usage_records WHERE details->>'runId' = ${runId}) AS cost,
              (SELECT estimated_cost::text FROM workflow_executions WHERE id = ${runId}) AS engine_cost`,
      ),
    );
    // two attempt rows (the lost one, the one that completed), one billed model call, one billed run
    expect(r).toMatchObject({ attempts: 2, lost: 1, billed: 1, runs: 1 });
    expect(Number(r!.cost)).toBe(Number(r!.engine_cost));
  });

  it('is append-only for the application, and row-level security hides other organizations', async () => {
    const db = s.database.db;
    expect(
      await failure(
        db.withTenant(owner.organizationId, (tx) => tx.execute(sql`UPDATE usage_records SET quantity = 0`)),
      ),
    ).toMatch(/permission denied/);
    expect(
      await failure(db.withTenant(owner.organizationId, (tx) => tx.execute(sql`DELETE FROM usage_records`))),
    ).toMatch(/permission denied/);
    // even the owner role cannot rewrite a billed row
    expect(
      await failure(
        db.system((tx) =>
          tx.execute(
            sql`UPDATE usage_records SET quantity = 0 WHERE organization_id = ${owner.organizationId} AND usage_type = 'workflow_execution'`,
          ),
        ),
      ),
    ).toMatch(/append-only/);
    // deleting an organization still removes its ledger (the cascade is the one delete allowed)
    await db.system(async (tx) => {
      const [org] = await queryRows<{ id: string }>(
        tx,
        sql`INSERT INTO organizations (name, slug) VALUES ('Gone', ${`gone-${Date.now()}`}) RETURNING id::text AS id`,
      );
      await tx.execute(sql`INSERT INTO usage_records (organization_id, usage_type, quantity, unit, period_start,
        period_end, source_key) VALUES (${org!.id}, 'storage', 1, 'byte_day', '2026-01-01', '2026-01-31', 'x')`);
      await tx.execute(sql`DELETE FROM organizations WHERE id = ${org!.id}`);
    });
    const seen = await db.withTenant(other.organizationId, (tx) =>
      queryRows<{ n: string }>(
        tx,
        sql`SELECT count(*)::text AS n FROM usage_records WHERE organization_id = ${owner.organizationId}`,
      ),
    );
    expect(seen[0]!.n).toBe('0');
    expect(
      await failure(
        db.withTenant(other.organizationId, (tx) =>
          tx.execute(sql`INSERT INTO usage_records (organization_id, usage_type, quantity, unit, period_start,
          period_end, source_key) VALUES (${owner.organizationId}, 'storage', 1, 'byte_day', '2026-01-01',
          '2026-01-31', 'forged')`),
        ),
      ),
    ).toMatch(/row-level security/);
  });

  it('counts API-key requests per key per hour, in one row', async () => {
    const key = await call(s, 'POST', '/api/v1/api-keys', {
      token: owner.token,
      body: { name: 'meter', scopes: ['organization:read', 'billing:read'] },
    });
    expect(key.status).toBe(201);
    for (let i = 0; i < 5; i++)
      expect((await call(s, 'GET', '/api/v1/organization', { token: key.body.key })).status).toBe(200);
    await s.app.apiUsageMeter.flush();
    for (let i = 0; i < 2; i++) await call(s, 'GET', '/api/v1/organization', { token: key.body.key });
    await s.app.apiUsageMeter.flush();
    const r = await call(s, 'GET', '/api/v1/usage?groupBy=apiKey&type=api_call', { token: owner.token });
    expect(r.body.groups).toEqual([
      expect.objectContaining({ key: key.body.apiKey.id, type: 'api_call', records: 1, quantity: 7 }),
    ]);
  });

  it('records stored bytes once a day (the storage job, run twice for the same day)', async () => {
    const dueAt = new Date();
    await runJobNow(storageSnapshotJob, s.app.jobDeps, dueAt);
    await runJobNow(storageSnapshotJob, s.app.jobDeps, dueAt);
    const r = await call(s, 'GET', '/api/v1/usage?groupBy=type&type=storage', { token: owner.token });
    expect(r.body.groups).toEqual([expect.objectContaining({ key: 'storage', records: 1 })]);
    expect(r.body.total.quantity).toBeGreaterThan(0);
  });

  it('refuses bad ranges with a message', async () => {
    const r = await call(s, 'GET', '/api/v1/usage?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z', {
      token: owner.token,
    });
    expect(r.status).toBe(400);
    expect(r.body.error.message).toMatch(/from must be before to/);
    const bad = await call(s, 'GET', '/api/v1/usage?groupBy=planet', { token: owner.token });
    expect(bad.status).toBe(400);
  });
});
