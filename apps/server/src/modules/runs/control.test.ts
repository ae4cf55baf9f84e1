import { queryRows } from '@aiops/db';
import { testBackend } from '@aiops/testing';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  addMember,
  call,
  type SignedUp,
  signUp,
  startTestServer,
  type TestServer,
} from '../../test-support.ts';

let s: TestServer;
let owner: SignedUp;
beforeAll(async () => {
  s = await startTestServer({ worker: { sweepMs: 100 } });
  owner = await signUp(s);
});
afterAll(() => s?.close());

const echo = (id: string, prompt: string, extra: Record<string, unknown> = {}) => ({
  id,
  type: 'agent',
  agent: { model: 'simulator:echo', prompt, ...extra },
});
async function workflow(definition: Record<string, unknown>) {
  const r = await call(s, 'POST', '/api/v1/workflows', {
    token: owner.token,
    body: { definition, status: 'active' },
  });
  expect(r.status).toBe(201);
  return r.body.id as string;
}
const get = async (runId: string) =>
  (await call(s, 'GET', `/api/v1/runs/${runId}`, { token: owner.token })).body;

describe(`run control API on ${testBackend()}`, () => {
  it('approvals: viewers cannot decide; a member approves; the decision and who made it are stored and audited', async () => {
    const wf = await workflow({
      name: 'needs-approval',
      nodes: [{ id: 'ok', type: 'approval', message: 'Deploy?' }, echo('deploy', 'deploying')],
      connections: [{ from: 'ok', to: 'deploy' }],
    });
    const run = (await call(s, 'POST', `/api/v1/workflows/${wf}/runs`, { token: owner.token, body: {} }))
      .body;
    await expect.poll(async () => (await get(run.id)).status, { timeout: 10_000 }).toBe('paused');
    const waiting = (await get(run.id)).steps.find((x: { nodeId: string }) => x.nodeId === 'ok');
    expect(waiting.status).toBe('waiting');
    const viewer = await addMember(s, owner, 'viewer');
    const denied = await call(s, 'POST', `/api/v1/runs/${run.id}/steps/ok/approve`, {
      token: viewer.token,
      body: { approved: true },
    });
    expect(denied.status).toBe(403);
    const member = await addMember(s, owner, 'member');
    const ok = await call(s, 'POST', `/api/v1/runs/${run.id}/steps/ok/approve`, {
      token: member.token,
      body: { approved: true, comment: 'go' },
    });
    expect(ok.status).toBe(200);
    expect(ok.body.decision).toMatchObject({
      approved: true,
      comment: 'go',
      decidedBy: `user:${member.userId}`,
    });
    await expect.poll(async () => (await get(run.id)).status, { timeout: 10_000 }).toBe('completed');
    const again = await call(s, 'POST', `/api/v1/runs/${run.id}/steps/ok/approve`, {
      token: member.token,
      body: { approved: false },
    });
    expect(again.status).toBe(409);
    const audit = await call(s, 'GET', `/api/v1/audit-logs?entityType=run_step&entityId=${run.id}`, {
      token: owner.token,
    });
    expect(audit.body.data.map((a: { action: string; userId: string }) => [a.action, a.userId])).toEqual([
      ['approved', member.userId],
    ]);
    expect(
      (
        await call(s, 'POST', `/api/v1/runs/${run.id}/steps/nope/approve`, {
          token: owner.token,
          body: { approved: true },
        })
      ).status,
    ).toBe(404);
  });

  it('pause and resume; retry of a failed run; re-run from a step', async () => {
    const slow = await workflow({
      name: 'slow-two',
      // Slow enough that the run is still running when the pause arrives, on a loaded machine too.
      nodes: [echo('a', 'a', { simulate: { latencyMs: 3_000 } }), echo('b', 'b')],
      connections: [{ from: 'a', to: 'b' }],
    });
    const run = (await call(s, 'POST', `/api/v1/workflows/${slow}/runs`, { token: owner.token, body: {} }))
      .body;
    await expect.poll(async () => (await get(run.id)).status, { timeout: 10_000 }).toBe('running');
    const paused = await call(s, 'POST', `/api/v1/runs/${run.id}/pause`, { token: owner.token });
    expect(paused.body.status).toBe('paused');
    expect((await call(s, 'POST', `/api/v1/runs/${run.id}/pause`, { token: owner.token })).status).toBe(409);
    const resumed = await call(s, 'POST', `/api/v1/runs/${run.id}/resume`, { token: owner.token });
    expect(resumed.body.status).toBe('running');
    await expect.poll(async () => (await get(run.id)).status, { timeout: 20_000 }).toBe('completed');

    const flaky = await workflow({
      name: 'flaky',
      nodes: [echo('x', 'x', { simulate: { failTimes: 1, failWith: 'fatal' } })],
    });
    const failed = (
      await call(s, 'POST', `/api/v1/workflows/${flaky}/runs`, { token: owner.token, body: { wait: 10 } })
    ).body;
    expect(failed.status).toBe('failed');
    // The error is said once per level: the run's in `error` (no statusReason repeating it), each
    // attempt's in its `error`.
    const failedDetail = await get(failed.id);
    expect(failedDetail.error).toMatchObject({
      code: 'provider_invalid_request',
      message: expect.stringMatching(/^Step x failed: simulated fatal failure/),
    });
    expect(failedDetail.statusReason).toBeNull();
    const attempt = failedDetail.steps[0].attempts[0];
    expect(attempt.error.message).toMatch(/simulated fatal failure/);
    expect(attempt.statusReason).toBeNull();
    const retried = await call(s, 'POST', `/api/v1/runs/${failed.id}/retry`, { token: owner.token });
    expect(retried.status).toBe(200);
    await expect.poll(async () => (await get(failed.id)).status, { timeout: 10_000 }).toBe('completed');

    const rerun = await call(s, 'POST', `/api/v1/runs/${run.id}/rerun`, {
      token: owner.token,
      body: { fromStep: 'b', input: { prompt: 'edited' } },
    });
    expect(rerun.status).toBe(201);
    await expect.poll(async () => (await get(rerun.body.id)).status, { timeout: 10_000 }).toBe('completed');
    const detail = await get(rerun.body.id);
    expect(detail.output).toBe('edited');
    expect(detail.steps.find((x: { nodeId: string }) => x.nodeId === 'a').attempts).toEqual([]);
    expect(
      (
        await call(s, 'POST', `/api/v1/runs/${run.id}/rerun`, {
          token: owner.token,
          body: { fromStep: 'zz' },
        })
      ).status,
    ).toBe(400);
  });

  it('re-run with an edited prompt: rendered like the original, checked first, and the new run names the old', async () => {
    const wf = await workflow({
      name: 'edit-me',
      nodes: [
        echo('a', 'first {{input.x}}'),
        echo('b', 'b saw {{nodes.a.output}}'),
        { id: 'out', type: 'output', value: '{{nodes.b.output}}' },
      ],
      connections: [
        { from: 'a', to: 'b' },
        { from: 'b', to: 'out' },
      ],
    });
    const run = (
      await call(s, 'POST', `/api/v1/workflows/${wf}/runs`, {
        token: owner.token,
        body: { input: { x: 'one' }, wait: 10 },
      })
    ).body;
    expect(run.output).toBe('b saw first one');
    expect(run.rerunOfExecutionId).toBeNull();
    const rerun = await call(s, 'POST', `/api/v1/runs/${run.id}/rerun`, {
      token: owner.token,
      body: { fromStep: 'b', input: { prompt: 'Edited: {{nodes.a.output}} / {{input.x}}' } },
    });
    expect(rerun.status).toBe(201);
    expect(rerun.body.rerunOfExecutionId).toBe(run.id);
    await expect.poll(async () => (await get(rerun.body.id)).status, { timeout: 10_000 }).toBe('completed');
    const detail = await get(rerun.body.id);
    expect(detail.rerunOfExecutionId).toBe(run.id);
    expect(detail.output).toBe('Edited: first one / one');
    const b = detail.steps.find((x: { nodeId: string }) => x.nodeId === 'b');
    expect(b.attempts[0].input.prompt).toBe('Edited: first one / one');

    const refused = async (body: Record<string, unknown>) => {
      const r = await call(s, 'POST', `/api/v1/runs/${run.id}/rerun`, { token: owner.token, body });
      expect(r.status).toBe(400);
      expect(r.body.error.code).toBe('invalid_rerun_input');
      return r.body.error.message as string;
    };
    expect(await refused({ fromStep: 'b', input: { prompt: 'x {{nodes.a.output' } })).toMatch(
      /^input.prompt: bad template: .*unclosed/,
    );
    expect(await refused({ fromStep: 'b', input: { system: '{{nodes.out.output}}' } })).toMatch(
      /input.system: reads nodes.out, which is not upstream of "b"/,
    );
    expect(await refused({ fromStep: 'out', input: { prompt: 'x' } })).toMatch(/output node/);
  });

  it('over the monthly quota: 429 quota_exceeded with Retry-After', async () => {
    const wf = await workflow({ name: 'quota', nodes: [echo('x', 'x')] });
    await s.database.db.system((tx) =>
      tx.execute(
        sql`UPDATE organizations SET monthly_execution_quota = monthly_executions_used WHERE id = ${owner.organizationId}`,
      ),
    );
    const r = await call(s, 'POST', `/api/v1/workflows/${wf}/runs`, { token: owner.token, body: {} });
    expect(r.status).toBe(429);
    expect(r.body.error.code).toBe('quota_exceeded');
    expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
    const [org] = await s.database.db.system((tx) =>
      queryRows<{ q: number }>(
        tx,
        sql`SELECT monthly_execution_quota AS q FROM organizations WHERE id = ${owner.organizationId}`,
      ),
    );
    // Upgrading the tier raises the quota.
    const up = await call(s, 'PATCH', '/api/v1/organization', {
      token: owner.token,
      body: { subscriptionTier: 'business' },
    });
    expect(up.status).toBe(200);
    const [after] = await s.database.db.system((tx) =>
      queryRows<{ q: number }>(
        tx,
        sql`SELECT monthly_execution_quota AS q FROM organizations WHERE id = ${owner.organizationId}`,
      ),
    );
    expect(after!.q).toBeGreaterThan(org!.q);
    expect(
      (await call(s, 'POST', `/api/v1/workflows/${wf}/runs`, { token: owner.token, body: {} })).status,
    ).toBe(202);
  });
});
