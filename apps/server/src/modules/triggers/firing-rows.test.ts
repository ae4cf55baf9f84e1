import { randomUUID } from 'node:crypto';
import { queryRows } from '@aiops/db';
import { testBackend } from '@aiops/testing';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type SignedUp, signUp, startTestServer, type TestServer } from '../../test-support.ts';
import { settleFirings } from './firing.ts';
import { insertFirings, markFiringsStarted, type NewFiring } from './firing-rows.ts';

let s: TestServer;
let a: SignedUp;
let b: SignedUp;
const hooks: Record<string, { trigger: string; workflow: string; path: string }> = {};

async function hook(owner: SignedUp, status: 'active' | 'draft') {
  const wf = await call(s, 'POST', '/api/v1/workflows', {
    token: owner.token,
    body: {
      status,
      definition: {
        name: `hook-${status}-${randomUUID()}`,
        nodes: [{ id: 'result', type: 'output', value: 1 }],
        connections: [],
      },
    },
  });
  const t = await call(s, 'POST', `/api/v1/workflows/${wf.body.id}/triggers`, {
    token: owner.token,
    body: {
      type: 'webhook',
      name: 'h',
      maxConcurrentExecutions: null,
      webhook: { auth: 'none', mode: 'async' },
    },
  });
  expect(t.status).toBe(201);
  return {
    trigger: t.body.id as string,
    workflow: wf.body.id as string,
    path: t.body.webhook.path as string,
  };
}

beforeAll(async () => {
  s = await startTestServer({ worker: true });
  a = await signUp(s);
  b = await signUp(s);
  hooks.a = await hook(a, 'active');
  hooks.draft = await hook(a, 'draft');
  hooks.b = await hook(b, 'active');
});
afterAll(() => s?.close());

const firing = (owner: SignedUp, h: { trigger: string; workflow: string }, deliveryId: string | null) =>
  ({
    id: randomUUID(),
    organizationId: owner.organizationId,
    triggerId: h.trigger,
    workflowId: h.workflow,
    deliveryId,
    dueAt: null,
    payload: { input: { n: 1 }, meta: {} },
  }) satisfies NewFiring;

const statusOf = async (id: string) => {
  const [row] = await s.database.db.system((tx) =>
    queryRows<{ status: string; run_id: string | null; payload: unknown }>(
      tx,
      sql`SELECT status, run_id, payload FROM trigger_firings WHERE id = ${id}`,
    ),
  );
  return row;
};

describe(`batched firings (aiops_insert_firings, aiops_mark_firings_started) on ${testBackend()}`, () => {
  it('inserts many organizations’ firings in one call: inactive workflows skipped, a repeated delivery id not inserted', async () => {
    const db = s.database.db;
    const delivery = `d-${randomUUID()}`;
    const items = [
      firing(a, hooks.a!, delivery),
      firing(a, hooks.draft!, null),
      firing(b, hooks.b!, null),
      firing(a, hooks.a!, delivery),
    ];
    const out = await insertFirings(db.db, items, true);
    expect(out[0]).toEqual({ status: 'starting', reason: null });
    expect(out[1]?.status).toBe('skipped');
    expect(out[1]?.reason).toContain('the workflow is draft');
    expect(out[2]).toEqual({ status: 'starting', reason: null });
    expect(out[3]).toBeNull();
    expect(await statusOf(items[3]!.id)).toBeUndefined();
    // A skipped firing keeps no payload; a starting one keeps it (to be started again after a crash).
    expect((await statusOf(items[1]!.id))?.payload).toBeNull();
    expect((await statusOf(items[0]!.id))?.payload).toEqual(items[0]!.payload);
  });

  it('with a tenant set, refuses rows of another organization (both functions)', async () => {
    const db = s.database.db;
    const err = await db
      .withTenant(a.organizationId, (tx) => insertFirings(tx, [firing(b, hooks.b!, null)], false))
      .then(
        () => null,
        (e: { cause?: { code?: string }; code?: string }) => e.cause?.code ?? e.code,
      );
    expect(err).toBe('42501');
    // Marking: another organization's firing is left alone.
    const theirs = firing(b, hooks.b!, null);
    await insertFirings(db.db, [theirs], false);
    const run = randomUUID();
    await db.withTenant(a.organizationId, (tx) =>
      markFiringsStarted(tx, [{ firingId: theirs.id, runId: run }]),
    );
    expect((await statusOf(theirs.id))?.status).toBe('starting');
  });

  it('marks a firing done at once when its run has ended, started while it is active', async () => {
    const db = s.database.db;
    const runStatus = async (id: string) =>
      (
        await db.system((tx) =>
          queryRows<{ status: string }>(tx, sql`SELECT status FROM workflow_executions WHERE id = ${id}`),
        )
      )[0]?.status;
    const ran = await Promise.all([1, 2].map((n) => call(s, 'POST', hooks.a!.path, { body: { n } })));
    const [ended, active] = ran.map((r) => r.body.runId as string);
    for (
      let i = 0;
      i < 200 && ((await runStatus(ended!)) !== 'completed' || (await runStatus(active!)) !== 'completed');
      i++
    ) {
      await new Promise((res) => setTimeout(res, 20));
    }
    // The worker is done with both; one is made to look active again (paused) for the mark.
    await db.system((tx) =>
      tx.execute(sql`UPDATE workflow_executions SET status = 'paused' WHERE id = ${active}`),
    );
    const one = firing(a, hooks.a!, null);
    const two = firing(a, hooks.a!, null);
    await insertFirings(db.db, [one, two], false);
    await markFiringsStarted(db.db, [
      { firingId: one.id, runId: active! },
      { firingId: two.id, runId: ended! },
    ]);
    expect(await statusOf(one.id)).toMatchObject({ status: 'started', run_id: active, payload: null });
    expect(await statusOf(two.id)).toMatchObject({ status: 'done', run_id: ended, payload: null });
    await db.system((tx) =>
      tx.execute(sql`UPDATE workflow_executions SET status = 'completed' WHERE id = ${active}`),
    );
  });

  it('a webhook answers once its run exists; its firing becomes started, or is recovered by the trigger loop', async () => {
    const r = await call(s, 'POST', hooks.a!.path, { body: { n: 2 } });
    expect(r.status).toBe(202);
    const [f] = await s.database.db.system((tx) =>
      queryRows<{ id: string }>(
        tx,
        sql`SELECT id FROM trigger_firings WHERE run_id = ${r.body.runId} OR id = ${r.body.firingId}`,
      ),
    );
    expect(f?.id).toBe(r.body.firingId);
    // Marked started shortly after the answer (not waited for).
    for (let i = 0; i < 100 && (await statusOf(f!.id))?.status === 'starting'; i++) {
      await new Promise((res) => setTimeout(res, 20));
    }
    expect((await statusOf(f!.id))?.run_id).toBe(r.body.runId);
    // `done` at once when the run had ended by then, else `started` until the trigger loop settles it.
    const [run] = await s.database.db.system((tx) =>
      queryRows<{ status: string }>(
        tx,
        sql`SELECT status FROM workflow_executions WHERE id = ${r.body.runId}`,
      ),
    );
    const marked = (await statusOf(f!.id))?.status;
    expect(['started', 'done']).toContain(marked);
    if (marked === 'started') {
      for (let i = 0; i < 100 && (await statusOf(f!.id))?.status === 'started'; i++) {
        await settleFirings({ db: s.database.db, runs: s.app.engine.runs, log: s.app.log });
        await new Promise((res) => setTimeout(res, 20));
      }
    }
    expect((await statusOf(f!.id))?.status).toBe('done');
    expect(run).toBeDefined();

    // A firing whose mark was lost (the process died after the run's creation) stays `starting`; the loop
    // starts it again with the same idempotency key and finds the same run: no second run.
    await s.database.db.system((tx) =>
      tx.execute(sql`UPDATE trigger_firings SET status = 'starting', run_id = NULL,
        payload = ${JSON.stringify({ input: { n: 2 }, meta: { triggeredBy: 'webhook' } })}::jsonb,
        updated_at = now() - interval '1 minute' WHERE id = ${f!.id}`),
    );
    await settleFirings({ db: s.database.db, runs: s.app.engine.runs, log: s.app.log });
    expect((await statusOf(f!.id))?.run_id).toBe(r.body.runId);
    const [runs] = await s.database.db.system((tx) =>
      queryRows<{ n: number }>(
        tx,
        sql`SELECT count(*)::int AS n FROM workflow_executions WHERE idempotency_key = ${`trigger-firing:${f!.id}`}`,
      ),
    );
    expect(runs?.n).toBe(1);
  });
});
