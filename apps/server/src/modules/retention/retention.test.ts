import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { queryRows } from '@aiops/db';
import { testBackend } from '@aiops/testing';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JOBS } from '../../jobs/registry.ts';
import { runJobNow } from '../../jobs/scheduler.ts';
import {
  addMember,
  call,
  type SignedUp,
  signUp,
  startTestServer,
  type TestServer,
} from '../../test-support.ts';
import { partitionName } from './partitions.ts';
import { applyRetention, retentionJob } from './retention-job.ts';

const DAY = 86_400_000;
let s: TestServer;
let archiveDir: string;
let owner: SignedUp;

beforeAll(async () => {
  archiveDir = await mkdtemp(join(tmpdir(), 'aiops-archive-'));
  s = await startTestServer({ worker: true, settings: { archiveDir } });
  owner = await signUp(s);
}, 60_000);
afterAll(async () => {
  expect(s.logs.filter((l) => l.includes('wrote no audit row'))).toEqual([]);
  await s?.close();
  await rm(archiveDir, { recursive: true, force: true });
});

const exists = async (name: string) =>
  (
    await s.database.db.system((tx) =>
      queryRows<{ r: string | null }>(tx, sql`SELECT to_regclass(${name})::text AS r`),
    )
  )[0]!.r !== null;

const monthStart = (t: number, add = 0) => {
  const d = new Date(t);
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + add, 1));
};

/** Raw agent metric samples of `org` at `at` (the partition of that month is created first). */
async function samples(org: string, at: Date, n: number): Promise<void> {
  await s.database.db.system(async (tx) => {
    await tx.execute(
      sql`SELECT aiops_ensure_month_partition('agent_metrics', ${at.toISOString().slice(0, 10)}::date)`,
    );
    await tx.execute(sql`INSERT INTO agent_metrics (organization_id, recorded_at, latency_ms, node_id)
      SELECT ${org}, ${at.toISOString()}::timestamptz, g, 'n' || g FROM generate_series(1, ${n}) g`);
  });
}

const count = async (org: string, before?: Date) =>
  (
    await s.database.db.system((tx) =>
      queryRows<{ n: number }>(
        tx,
        sql`SELECT count(*)::int AS n FROM agent_metrics WHERE organization_id = ${org}
            ${before ? sql`AND recorded_at < ${before.toISOString()}::timestamptz` : sql``}`,
      ),
    )
  )[0]!.n;

describe(`retention settings on ${testBackend()}`, () => {
  it('reads the seed defaults, lets only owners change them, audited, and refuses bad periods', async () => {
    const r = await call(s, 'GET', '/api/v1/organization/retention', { token: owner.token });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      logsDays: 90,
      metricsDays: 730,
      executionsDays: 365,
      defaults: { logsDays: 90, metricsDays: 730, executionsDays: 365 },
      custom: false,
      updatedAt: null,
    });
    const admin = await addMember(s, owner, 'admin');
    const refused = await call(s, 'PUT', '/api/v1/organization/retention', {
      token: admin.token,
      body: { logsDays: 30 },
    });
    expect(refused.status).toBe(403);
    const changed = await call(s, 'PUT', '/api/v1/organization/retention', {
      token: owner.token,
      body: { logsDays: 30 },
    });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({ logsDays: 30, metricsDays: 730, executionsDays: 365, custom: true });
    const seen = await call(s, 'GET', '/api/v1/organization/retention', { token: admin.token });
    expect(seen.body.logsDays).toBe(30);
    const logs = await call(s, 'GET', '/api/v1/audit-logs?entityType=retention', { token: owner.token });
    expect(logs.status).toBe(200);
    const entry = logs.body.data.find((l: { entityType: string }) => l.entityType === 'retention');
    expect(entry).toMatchObject({ action: 'updated' });
    expect(JSON.stringify(entry.changes)).toContain('30');
    for (const body of [{}, { logsDays: 0 }, { metricsDays: 5000 }, { logsDays: 1.5 }, { other: 1 }]) {
      const bad = await call(s, 'PUT', '/api/v1/organization/retention', { token: owner.token, body });
      expect(bad.status, JSON.stringify(body)).toBe(400);
    }
  });
});

describe(`partitions and retention on ${testBackend()}`, () => {
  it('the job is registered and creates this month’s and the next two months’ partitions', async () => {
    expect(JOBS.map((j) => j.name)).toEqual(
      expect.arrayContaining(['observability.retention', 'observability.rollup-agent-metrics']),
    );
    const due = new Date();
    await runJobNow(retentionJob, s.app.jobDeps, due);
    for (const add of [0, 1, 2])
      expect(await exists(partitionName('agent_metrics', monthStart(due.getTime(), add)))).toBe(true);
    // The application role cannot read a partition directly (only through the parent's RLS policy).
    const name = partitionName('agent_metrics', monthStart(due.getTime()));
    const err = await s.database.db
      .withTenant(owner.organizationId, (tx) => tx.execute(sql.raw(`SELECT * FROM ${name}`)))
      .then(
        () => 'read',
        (e: Error) => String((e.cause as Error | undefined)?.message ?? e.message),
      );
    expect(err).toMatch(/permission denied/);
  });

  it('archives an expired partition as gzip JSON lines (read back), then drops it; a longer period keeps it', async () => {
    const due = new Date();
    const keeper = await signUp(s);
    // Six months back: older than the 90-day default.
    const old = new Date(monthStart(due.getTime(), -6).getTime() + 3 * DAY);
    const oldPartition = partitionName('agent_metrics', old);
    await samples(owner.organizationId, old, 120);
    await samples(keeper.organizationId, old, 5);
    // One organization keeps logs for 400 days: the partition must stay.
    const longer = await call(s, 'PUT', '/api/v1/organization/retention', {
      token: keeper.token,
      body: { logsDays: 400 },
    });
    expect(longer.status).toBe(200);
    const kept = await applyRetention({ ...s.app.jobDeps, dueAt: due });
    expect(kept.archived).toEqual([]);
    expect(await exists(oldPartition)).toBe(true);
    // …but the organization with 30 days loses its rows there (the partition spans every organization).
    expect(await count(owner.organizationId, new Date(due.getTime() - 30 * DAY))).toBe(0);
    expect(await count(keeper.organizationId, new Date(due.getTime() - 30 * DAY))).toBe(5);

    await samples(owner.organizationId, old, 7);
    const back = await call(s, 'PUT', '/api/v1/organization/retention', {
      token: keeper.token,
      body: { logsDays: 90 },
    });
    expect(back.status).toBe(200);
    const report = await applyRetention({ ...s.app.jobDeps, dueAt: due });
    expect(report.archived.map((x) => x.partition)).toContain(oldPartition);
    expect(await exists(oldPartition)).toBe(false);
    const file = join(archiveDir, 'agent_metrics', `${oldPartition}.jsonl.gz`);
    const lines = gunzipSync(await readFile(file))
      .toString('utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    // The keeper's rows (now past 90 days) were deleted per organization before the partition expired.
    expect(lines).toHaveLength(report.archived.find((x) => x.partition === oldPartition)!.rows);
    expect(lines.length).toBeGreaterThanOrEqual(7);
    expect(lines[0]).toMatchObject({ organization_id: expect.any(String), recorded_at: expect.any(String) });
    expect(new Set(lines.map((l) => l.node_id)).size).toBeGreaterThan(1);
    // Running again changes nothing: no partition left to archive, this month's are still there.
    const again = await applyRetention({ ...s.app.jobDeps, dueAt: due });
    expect(again.archived).toEqual([]);
    expect(await exists(partitionName('agent_metrics', due))).toBe(true);
  });

  it('deletes finished runs older than the organization’s executions period, in batches, and old rollups', async () => {
    const org = await signUp(s);
    const other = await signUp(s);
    const run = async (who: SignedUp) => {
      const wf = await call(s, 'POST', '/api/v1/workflows', {
        token: who.token,
        body: {
          status: 'active',
          definition: {
            name: 'kept or not',
            nodes: [{ id: 'say', type: 'agent', agent: { model: 'simulator:echo', prompt: 'hi' } }],
            connections: [],
          },
        },
      });
      expect(wf.status).toBe(201);
      for (let i = 0; i < 3; i++) {
        const r = await call(s, 'POST', `/api/v1/workflows/${wf.body.id}/runs`, {
          token: who.token,
          body: { input: {}, wait: 20 },
        });
        expect(r.body.status).toBe('completed');
      }
    };
    await run(org);
    await run(other);
    const set = await call(s, 'PUT', '/api/v1/organization/retention', {
      token: org.token,
      body: { executionsDays: 2, metricsDays: 5 },
    });
    expect(set.status).toBe(200);
    await s.database.db.system((tx) =>
      tx.execute(sql`INSERT INTO agent_metrics_hourly (organization_id, bucket, metric, count, sum, min, max, hist)
        VALUES (${org.organizationId}, now() - interval '4 days', 'latency', 1, 5, 5, 5, '{"41": 1}'),
               (${org.organizationId}, now() - interval '1 hour', 'latency', 1, 5, 5, 5, '{"41": 1}'),
               (${other.organizationId}, now() - interval '4 days', 'latency', 1, 5, 5, 5, '{"41": 1}')`),
    );
    const runs = async (who: SignedUp) =>
      (
        await s.database.db.system((tx) =>
          queryRows<{ runs: number; steps: number; attempts: number }>(
            tx,
            sql`SELECT (SELECT count(*)::int FROM workflow_executions WHERE organization_id = ${who.organizationId}) AS runs,
                  (SELECT count(*)::int FROM run_steps WHERE organization_id = ${who.organizationId}) AS steps,
                  (SELECT count(*)::int FROM agent_executions WHERE organization_id = ${who.organizationId}) AS attempts`,
          ),
        )
      )[0]!;
    expect(await runs(org)).toEqual({ runs: 3, steps: 3, attempts: 3 });
    const report = await applyRetention({ ...s.app.jobDeps, dueAt: new Date(Date.now() + 3 * DAY) });
    expect(report.deletedRuns).toBe(3);
    expect(await runs(org)).toEqual({ runs: 0, steps: 0, attempts: 0 });
    expect(await runs(other)).toEqual({ runs: 3, steps: 3, attempts: 3 });
    const hourly = await s.database.db.system((tx) =>
      queryRows<{ organization_id: string }>(
        tx,
        sql`SELECT organization_id FROM agent_metrics_hourly WHERE organization_id IN (${org.organizationId}, ${other.organizationId})`,
      ),
    );
    expect(hourly.filter((h) => h.organization_id === org.organizationId)).toHaveLength(1);
    expect(hourly.filter((h) => h.organization_id === other.organizationId)).toHaveLength(1);
  });
});
