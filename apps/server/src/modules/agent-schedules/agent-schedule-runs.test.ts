import { agents, queryRows } from '@aiops/db';
import { Runs } from '@aiops/engine';
import { testBackend } from '@aiops/testing';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type SignedUp, signUp, startTestServer, type TestServer } from '../../test-support.ts';
import { settleFirings } from '../triggers/firing.ts';
import { fireDueAgentSchedules } from './calls.ts';
import { AgentScheduleLoop } from './loop.ts';
import { agentFiringRunKey, runDueAgents } from './runs.ts';
import { SCHEDULE_INPUT_MAX_BYTES } from './schemas.ts';

/**
 * Schedules of llm and code agents: each due time starts one durable run of the agent's harness workflow
 * with the schedule's input, whatever the number of dispatching processes.
 */
let s: TestServer;
let owner: SignedUp;
let other: SignedUp;

beforeAll(async () => {
  s = await startTestServer({ worker: true });
  owner = await signUp(s);
  other = await signUp(s);
});
afterAll(() => s?.close());

const api = (method: string, path: string, body?: unknown, token = owner.token) =>
  call(s, method, `/api/v1${path}`, { token, ...(body === undefined ? {} : { body }) });

async function newAgent(body: Record<string, unknown>) {
  const a = await api('POST', '/agents', { model: 'simulator:echo', type: 'custom', ...body });
  expect(a.status, JSON.stringify(a.body)).toBe(201);
  return a.body.id as string;
}

interface FiringRow {
  id: string;
  due_at: Date;
  status: string;
  attempts: number;
  run_id: string | null;
  reason: string | null;
}
const firingsOf = (id: string) =>
  s.database.db.system((tx) =>
    queryRows<FiringRow>(
      tx,
      sql`SELECT id, due_at, status, attempts, run_id, reason FROM trigger_firings WHERE agent_id = ${id} ORDER BY due_at`,
    ),
  );

interface RunRow {
  id: string;
  status: string;
  triggered_by: string;
  external_trigger_id: string | null;
  idempotency_key: string | null;
  input_data: unknown;
  output_data: unknown;
  metadata: { trigger?: Record<string, unknown> };
}
const runsOf = (agentId: string) =>
  s.database.db.system((tx) =>
    queryRows<RunRow>(
      tx,
      sql`SELECT id, status, triggered_by, external_trigger_id, idempotency_key, input_data, output_data, metadata
          FROM workflow_executions WHERE metadata -> 'trigger' ->> 'agentId' = ${agentId} ORDER BY created_at`,
    ),
  );

async function finished(runId: string) {
  let run: { status: string } = { status: 'queued' };
  for (let i = 0; i < 600; i++) {
    run = (await api('GET', `/runs/${runId}`)).body;
    if (!['queued', 'pending', 'running'].includes(run.status)) return run;
    await new Promise((r) => setTimeout(r, 100));
  }
  return run;
}

const setCursor = (id: string, at: Date) =>
  s.database.db.system((tx) => tx.update(agents).set({ scheduleNextFireAt: at }).where(eq(agents.id, id)));

describe(`schedules of llm and code agents on ${testBackend()}`, () => {
  it('sets a schedule with an input on an llm agent; refuses a webhook URL and an oversized input', async () => {
    const id = await newAgent({ name: 'Reporter', promptTemplate: 'Report for {{input.team}}' });
    const url = await api('PUT', `/agents/${id}/schedule`, {
      cron: '0 6 * * *',
      webhookUrl: 'https://agent.example.com/run',
    });
    expect(url.status).toBe(400);
    expect(url.body.error.details.issues[0].path).toBe('body.webhookUrl');
    const big = await api('PUT', `/agents/${id}/schedule`, {
      cron: '0 6 * * *',
      input: { text: 'x'.repeat(SCHEDULE_INPUT_MAX_BYTES) },
    });
    expect(big.status).toBe(400);
    expect(big.body.error.details.issues[0].path).toBe('body.input');
    const notObject = await api('PUT', `/agents/${id}/schedule`, { cron: '0 6 * * *', input: [1, 2] });
    expect(notObject.status).toBe(400);
    const put = await api('PUT', `/agents/${id}/schedule`, {
      cron: '0 6 * * *',
      timezone: 'Europe/Berlin',
      input: { team: 'ops' },
    });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    expect(put.body).toMatchObject({
      kind: 'llm',
      cron: '0 6 * * *',
      input: { team: 'ops' },
      webhookUrl: null,
      secretHint: null,
    });
    expect(put.body.secret).toBeUndefined();
    expect(put.body.nextFireTimes).toHaveLength(5);
    // Leaving the input out keeps it.
    const again = await api('PUT', `/agents/${id}/schedule`, {
      cron: '0 7 * * *',
      timezone: 'Europe/Berlin',
    });
    expect(again.body.input).toEqual({ team: 'ops' });
    // The harness workflow the runs use was made here, audited; the schedule's change too.
    const audit = await api('GET', `/audit-logs?entityType=agent_schedule&entityId=${id}`);
    expect(audit.body.data.map((a: { action: string }) => a.action).sort()).toEqual(['created', 'updated']);
    expect(
      audit.body.data.find((a: { action: string }) => a.action === 'created').changes.after,
    ).toMatchObject({
      input: { team: 'ops' },
    });
    const harness = await api('GET', '/audit-logs?entityType=workflow');
    expect(
      harness.body.data.some(
        (a: { action: string; changes: { after?: { harnessOf?: { agentId: string } } } }) =>
          a.action === 'created' && a.changes.after?.harnessOf?.agentId === id,
      ),
    ).toBe(true);
    expect((await api('GET', `/agents/${id}/schedule`, undefined, other.token)).status).toBe(404);
  });

  it('each due time starts exactly one run with the input, from two dispatchers at once; the run completes', async () => {
    const id = await newAgent({ name: 'Digest', promptTemplate: 'Digest for {{input.team}}' });
    const put = await api('PUT', `/agents/${id}/schedule`, {
      cron: '*/5 * * * *',
      timezone: 'UTC',
      input: { team: 'sre' },
    });
    expect(put.status).toBe(200);
    const due = new Date(Math.floor(Date.now() / 300_000) * 300_000);
    const now = new Date(due.getTime() + 5_000);
    await setCursor(id, due);
    // Two processes (each its own Runs) record and start at the same time, twice over.
    const dispatchers = [new Runs(s.database.db, s.app.log), new Runs(s.database.db, s.app.log)];
    for (let round = 0; round < 2; round++) {
      await Promise.all(dispatchers.map(() => fireDueAgentSchedules(s.database.db, now)));
      await Promise.all(dispatchers.map((runs) => runDueAgents({ db: s.database.db, runs, log: s.app.log })));
    }
    const firings = await firingsOf(id);
    expect(firings).toHaveLength(1);
    const f = firings[0]!;
    expect(new Date(f.due_at).toISOString()).toBe(due.toISOString());
    expect(f).toMatchObject({ status: 'started', attempts: 1 });
    const runs = await runsOf(id);
    expect(runs).toHaveLength(1);
    const r = runs[0]!;
    expect(f.run_id).toBe(r.id);
    expect(r).toMatchObject({
      triggered_by: 'schedule',
      external_trigger_id: due.toISOString(),
      idempotency_key: agentFiringRunKey(f.id),
      input_data: { team: 'sre' },
    });
    expect(r.metadata.trigger).toEqual({
      type: 'agent_schedule',
      agentId: id,
      agentVersion: 1,
      firingId: f.id,
      dueAt: due.toISOString(),
    });
    const run = (await finished(r.id)) as { status: string; output: unknown; triggeredBy: string };
    expect(run).toMatchObject({ status: 'completed', output: 'Digest for sre', triggeredBy: 'schedule' });
    // The run is in the run list, and the firing is done once the trigger loop sees it ended.
    const list = await api('GET', '/runs?limit=100');
    expect(list.body.data.map((x: { id: string }) => x.id)).toContain(r.id);
    await settleFirings({ db: s.database.db, runs: s.app.engine.runs, log: s.app.log });
    const sched = await api('GET', `/agents/${id}/schedule`);
    expect(sched.body.calls[0]).toMatchObject({ id: f.id, status: 'done', runId: r.id });
    // A lost lease (the process died after starting the run) starts nothing new: same run key.
    await s.database.db.system((tx) =>
      tx.execute(
        sql`UPDATE trigger_firings SET status = 'starting', next_attempt_at = now() WHERE id = ${f.id}`,
      ),
    );
    await runDueAgents({ db: s.database.db, runs: dispatchers[1]!, log: s.app.log });
    expect((await runsOf(id)).map((x) => x.id)).toEqual([r.id]);
    expect((await firingsOf(id))[0]).toMatchObject({ status: 'started', run_id: r.id, attempts: 2 });
  });

  it('two schedule loops running side by side start one run per second of a code agent', async () => {
    const id = await newAgent({
      name: 'Shouter',
      kind: 'code',
      promptTemplate: 'code',
      code: { language: 'typescript', code: 'return { team: String(input.team).toUpperCase() };' },
    });
    const put = await api('PUT', `/agents/${id}/schedule`, { cron: '* * * * * *', input: { team: 'data' } });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    expect(put.body.kind).toBe('code');
    const loops = [1, 2].map(
      () =>
        new AgentScheduleLoop({
          db: s.database.db,
          runs: new Runs(s.database.db, s.app.log),
          secrets: s.app.jobDeps.secrets,
          log: s.app.log,
        }),
    );
    for (const l of loops) l.start();
    // Until three due times fired (about three seconds; more on a crowded machine).
    for (let i = 0; i < 300 && (await firingsOf(id)).length < 3; i++)
      await new Promise((r) => setTimeout(r, 100));
    await api('DELETE', `/agents/${id}/schedule`);
    await Promise.all(loops.map((l) => l.stop()));
    // Firings recorded just before the stop may still wait for their start: one more pass starts them.
    await runDueAgents({ db: s.database.db, runs: s.app.engine.runs, log: s.app.log });
    const firings = await firingsOf(id);
    expect(firings.length).toBeGreaterThanOrEqual(3);
    const dues = firings.map((f) => new Date(f.due_at).getTime());
    expect(new Set(dues).size).toBe(dues.length);
    for (const d of dues) expect(d % 1000).toBe(0);
    const runs = await runsOf(id);
    expect(runs).toHaveLength(firings.length);
    expect(new Set(runs.map((r) => r.id))).toEqual(new Set(firings.map((f) => f.run_id)));
    for (const r of runs) {
      const done = (await finished(r.id)) as { status: string; output: unknown };
      expect(done).toMatchObject({ status: 'completed', output: { team: 'DATA' } });
    }
  }, 60_000);

  it('an organization over its monthly quota starts no run: the firing fails and says why', async () => {
    const a = await call(s, 'POST', '/api/v1/agents', {
      token: other.token,
      body: { name: 'Quota', model: 'simulator:echo', type: 'custom', promptTemplate: 'hi' },
    });
    const id = a.body.id as string;
    const put = await call(s, 'PUT', `/api/v1/agents/${id}/schedule`, {
      token: other.token,
      body: { cron: '*/5 * * * *', input: { x: 1 } },
    });
    expect(put.status).toBe(200);
    await s.database.db.system((tx) =>
      tx.execute(
        sql`UPDATE organizations SET monthly_execution_quota = monthly_executions_used WHERE id = ${other.organizationId}`,
      ),
    );
    const due = new Date(Math.floor(Date.now() / 300_000) * 300_000);
    await setCursor(id, due);
    await fireDueAgentSchedules(s.database.db, new Date(due.getTime() + 1000));
    await runDueAgents({ db: s.database.db, runs: s.app.engine.runs, log: s.app.log });
    const [f] = await firingsOf(id);
    expect(f).toMatchObject({ status: 'failed', attempts: 1, run_id: null });
    expect(f!.reason).toContain('quota_exceeded');
    expect(await runsOf(id)).toEqual([]);
    const sched = await call(s, 'GET', `/api/v1/agents/${id}/schedule`, { token: other.token });
    expect(sched.body.calls[0]).toMatchObject({ status: 'failed', runId: null });
  });
});
