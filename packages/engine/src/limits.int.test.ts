import { randomUUID } from 'node:crypto';
import { organizations, queryRows } from '@aiops/db';
import { testBackend } from '@aiops/testing';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EngineHarness, engineHarness } from './test-support.ts';

let h: EngineHarness;
let clock = new Date('2026-03-30T12:00:00Z');
beforeAll(async () => {
  h = await engineHarness({ now: () => clock, worker: { concurrency: 16, claimBatch: 16 } });
});
afterAll(() => h?.close());

const echo = (id: string, prompt: string, extra: Record<string, unknown> = {}) => ({
  id,
  type: 'agent',
  agent: { model: 'simulator:echo', prompt, ...extra },
});
const active = (wf: string) =>
  h.db.system(
    async (tx) =>
      (
        await queryRows<{ n: number }>(
          tx,
          sql`SELECT count(*)::int AS n FROM workflow_executions WHERE workflow_id = ${wf} AND status IN ('pending', 'running', 'paused')`,
        )
      )[0]!.n,
  );

describe(`quotas on ${testBackend()}`, () => {
  it("refuses runs over the organization's monthly quota (429 quota_exceeded) and resets it the next month", async () => {
    await h.db.system((tx) =>
      tx.execute(
        sql`UPDATE organizations SET monthly_execution_quota = 3, monthly_executions_used = 0, monthly_reset_date = NULL WHERE id = ${h.orgId}`,
      ),
    );
    const wf = await h.createWorkflow({
      name: 'metered',
      nodes: [echo('a', 'a', { simulate: { failTimes: 1, failWith: 'fatal' } })],
    });
    const ids = [await h.start(wf), await h.start(wf), await h.start(wf)];
    const over = await h.start(wf).catch((e: unknown) => e);
    expect(over).toMatchObject({ status: 429, code: 'quota_exceeded' });
    expect((over as { details: { retryAfterSeconds: number } }).details.retryAfterSeconds).toBeGreaterThan(0);
    // A retry is not a new execution: it does not count.
    const failed = await h.wait(ids[0]!);
    expect(failed.status).toBe('failed');
    const [org] = await h.db.system((tx) =>
      queryRows<{ used: number; reset: string }>(
        tx,
        sql`SELECT monthly_executions_used AS used, monthly_reset_date::text AS reset FROM organizations WHERE id = ${h.orgId}`,
      ),
    );
    expect(org).toEqual({ used: 3, reset: '2026-04-01' });
    clock = new Date('2026-04-01T00:00:01Z');
    await expect(h.start(wf)).resolves.toMatch(/^[0-9a-f-]{36}$/);
    const [after] = await h.db.system((tx) =>
      queryRows<{ used: number; reset: string }>(
        tx,
        sql`SELECT monthly_executions_used AS used, monthly_reset_date::text AS reset FROM organizations WHERE id = ${h.orgId}`,
      ),
    );
    expect(after).toEqual({ used: 1, reset: '2026-05-01' });
    await h.db.system((tx) =>
      tx.execute(sql`UPDATE organizations SET monthly_execution_quota = 1000000 WHERE id = ${h.orgId}`),
    );
  });
});

describe(`concurrency on ${testBackend()}`, () => {
  it('queues runs over max concurrent runs and admits them as others end; never more than the limit at once', async () => {
    const wf = await h.createWorkflow({
      name: 'limited',
      settings: { maxConcurrentRuns: 2 },
      // Long enough that all five are started before the first two end, even on a loaded machine.
      nodes: [echo('a', 'a', { simulate: { latencyMs: 3_000 } })],
    });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await h.start(wf));
    const statuses = (
      await h.db.system((tx) =>
        queryRows<{ status: string }>(
          tx,
          sql`SELECT status FROM workflow_executions WHERE workflow_id = ${wf}`,
        ),
      )
    ).map((r) => r.status);
    expect(statuses.filter((s) => s === 'queued')).toHaveLength(3);
    let peak = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        peak = Math.max(peak, await active(wf));
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    try {
      for (const id of ids) expect((await h.wait(id)).status).toBe('completed');
    } finally {
      sampling = false;
      await sampler;
    }
    expect(peak).toBeLessThanOrEqual(2);
    expect(peak).toBeGreaterThanOrEqual(1);
  });

  it('the reject policy answers 429 concurrency_limit', async () => {
    const wf = await h.createWorkflow({
      name: 'reject',
      settings: { maxConcurrentRuns: 1, concurrencyPolicy: 'reject' },
      nodes: [echo('a', 'a', { simulate: { latencyMs: 500 } })],
    });
    const first = await h.start(wf);
    await expect(h.start(wf)).rejects.toMatchObject({
      status: 429,
      code: 'concurrency_limit',
      retryable: true,
    });
    expect((await h.wait(first)).status).toBe('completed');
    await expect(h.start(wf)).resolves.toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
    );
  });

  it('a concurrency key runs one run per key at a time, different keys in parallel', async () => {
    const wf = await h.createWorkflow({
      name: 'per-customer',
      settings: { concurrencyKey: '{{input.customer}}' },
      input: { type: 'object', properties: { customer: { type: 'string' } } },
      nodes: [echo('a', '{{input.customer}}', { simulate: { latencyMs: 300 } })],
    });
    const a1 = await h.start(wf, { customer: 'acme' });
    const a2 = await h.start(wf, { customer: 'acme' });
    const b1 = await h.start(wf, { customer: 'globex' });
    const rows = await h.db.system((tx) =>
      queryRows<{ id: string; status: string }>(
        tx,
        sql`SELECT id, status FROM workflow_executions WHERE workflow_id = ${wf}`,
      ),
    );
    const st = Object.fromEntries(rows.map((r) => [r.id, r.status]));
    expect(st[a2]).toBe('queued');
    expect(st[b1]).not.toBe('queued');
    const [r1, r2, r3] = [await h.wait(a1), await h.wait(a2), await h.wait(b1)];
    expect([r1.status, r2.status, r3.status]).toEqual(['completed', 'completed', 'completed']);
    expect(r2.startedAt!.getTime()).toBeGreaterThanOrEqual(r1.completedAt!.getTime());
    expect(r3.startedAt!.getTime()).toBeLessThan(r1.completedAt!.getTime());
  });
});

describe(`fairness on ${testBackend()}`, () => {
  it("a burst of one organization does not starve another's runs (they start within 1.5 s)", async () => {
    const orgB = randomUUID();
    await h.db.system((tx) =>
      tx
        .insert(organizations)
        .values({ id: orgB, name: 'B', slug: `b-${orgB}`, monthlyExecutionQuota: 1_000_000 }),
    );
    const burst = await h.createWorkflow({
      name: 'burst',
      // Slow steps (16 slots × 400 ms: at most 40 runs/s drain) keep org A's backlog long however slowly the
      // burst itself is started on a loaded machine.
      nodes: [echo('a', 'a', { simulate: { latencyMs: 400 } })],
    });
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < 800) {
          next++;
          await h.start(burst);
        }
      }),
    );
    const wfB = await h.db.withTenant(orgB, async (tx) => {
      const { createWorkflow } = await import('./workflows.ts');
      return (
        await createWorkflow(tx, {
          organizationId: orgB,
          definition: { name: 'small', nodes: [echo('a', 'b')] },
        })
      ).id;
    });
    const startedB = await h.runs.start({ organizationId: orgB, workflowId: wfB, input: {} });
    const runB = await h.watcher.waitForFinal(orgB, startedB.id, 30_000);
    expect(runB.status).toBe('completed');
    const waited = runB.startedAt!.getTime() - runB.createdAt.getTime();
    const [left] = await h.db.system((tx) =>
      queryRows<{ n: number }>(
        tx,
        sql`SELECT count(*)::int AS n FROM workflow_executions WHERE workflow_id = ${burst} AND status <> 'completed'`,
      ),
    );
    console.log(
      `fairness (${testBackend()}): org B's run started ${waited} ms after it was created; org A still had ${left!.n} runs waiting`,
    );
    expect(left!.n).toBeGreaterThan(100);
    expect(waited).toBeLessThan(1500);
  }, 120_000);
});
