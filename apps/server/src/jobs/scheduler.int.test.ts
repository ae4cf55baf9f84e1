import { generateKey, parseKeyring, SecretBox } from '@aiops/core';
import { queryRows } from '@aiops/db';
import { createTestDatabase, type TestDatabase } from '@aiops/testing';
import { sql } from 'drizzle-orm';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMailer } from '../services/mailer.ts';
import { resolveSettings } from '../settings.ts';
import { latestDue, parseCron } from './due.ts';
import { JobScheduler } from './scheduler.ts';
import type { JobDeps, ScheduledJob } from './types.ts';

let database: TestDatabase;
let deps: JobDeps;

beforeAll(async () => {
  database = await createTestDatabase();
  const log = pino({ level: 'silent' });
  deps = {
    db: database.db,
    secrets: new SecretBox(parseKeyring(`test:${generateKey()}`)),
    mailer: createMailer({ from: 'test@example.test', log }),
    settings: resolveSettings({}),
    log,
  };
});
afterAll(async () => {
  await database?.destroy();
});

function counting(name: string, cron: string, body?: (dueAt: Date) => Promise<void>) {
  const runs: string[] = [];
  const job: ScheduledJob = {
    name,
    cron,
    async run(ctx) {
      runs.push(ctx.dueAt.toISOString());
      await body?.(ctx.dueAt);
    },
  };
  return { job, runs };
}

describe('latestDue', () => {
  it('finds the latest fire time at or before now, for minutely to yearly patterns and a time zone', () => {
    const now = new Date('2026-03-29T01:30:20Z');
    expect(latestDue(parseCron('* * * * *'), now)?.toISOString()).toBe('2026-03-29T01:30:00.000Z');
    expect(latestDue(parseCron('0 * * * *'), now)?.toISOString()).toBe('2026-03-29T01:00:00.000Z');
    expect(latestDue(parseCron('0 0 1 * *'), now)?.toISOString()).toBe('2026-03-01T00:00:00.000Z');
    expect(latestDue(parseCron('0 0 1 1 *'), now)?.toISOString()).toBe('2026-01-01T00:00:00.000Z');
    // 02:00 in Berlin on 29 March 2026 does not exist (clocks jump to 03:00 = 01:00 UTC): it fires then.
    expect(latestDue(parseCron('0 2 * * *', 'Europe/Berlin'), now)?.toISOString()).toBe(
      '2026-03-29T01:00:00.000Z',
    );
    expect(
      latestDue(parseCron('0 2 * * *', 'Europe/Berlin'), new Date('2026-03-29T00:59:00Z'))?.toISOString(),
    ).toBe('2026-03-28T01:00:00.000Z');
  });

  it('refuses a bad pattern with a message naming it', () => {
    expect(() => parseCron('61 * * * *')).toThrow(/invalid cron "61 \* \* \* \*"/);
  });
});

describe('JobScheduler', () => {
  it('runs a job once per due time across three schedulers ticking at the same moments', async () => {
    const { job, runs } = counting('test.once', '*/5 * * * *', () => new Promise((r) => setTimeout(r, 20)));
    const schedulers = ['a', 'b', 'c'].map((owner) => new JobScheduler(deps, [job], { owner }));
    for (const minute of ['01', '03', '06', '07', '11']) {
      const now = new Date(`2026-12-05T10:${minute}:00Z`);
      await Promise.all(schedulers.map((s) => s.tick(now)));
    }
    expect(runs).toEqual([
      '2026-12-05T10:00:00.000Z',
      '2026-12-05T10:05:00.000Z',
      '2026-12-05T10:10:00.000Z',
    ]);
    const rows = await database.db.system((tx) =>
      queryRows<{ status: string; n: number }>(
        tx,
        sql`SELECT status, count(*)::int AS n FROM scheduled_job_runs WHERE job = 'test.once' GROUP BY status`,
      ),
    );
    expect(rows).toEqual([{ status: 'succeeded', n: 3 }]);
  });

  it('after a restart runs only the latest missed due time, and nothing already done', async () => {
    const first = counting('test.restart', '0 * * * *');
    await new JobScheduler(deps, [first.job], { owner: 'before' }).tick(new Date('2026-12-05T08:10:00Z'));
    const second = counting('test.restart', '0 * * * *');
    const restarted = new JobScheduler(deps, [second.job], { owner: 'after' });
    await restarted.tick(new Date('2026-12-05T08:20:00Z'));
    expect(second.runs).toEqual([]);
    await restarted.tick(new Date('2026-12-05T11:30:00Z'));
    expect(first.runs).toEqual(['2026-12-05T08:00:00.000Z']);
    expect(second.runs).toEqual(['2026-12-05T11:00:00.000Z']);
  });

  it('records a failure and retries it after its delay, three attempts in all', async () => {
    let calls = 0;
    const job: ScheduledJob = {
      name: 'test.failing',
      cron: '0 0 * * *',
      async run() {
        calls++;
        throw new Error('boom');
      },
    };
    const s = new JobScheduler(deps, [job], { owner: 'x' });
    await s.tick(new Date('2026-12-05T00:00:30Z'));
    expect(calls).toBe(1);
    const read = () =>
      database.db.system((tx) =>
        queryRows<{ status: string; attempts: number; error: string }>(
          tx,
          sql`SELECT status, attempts, error FROM scheduled_job_runs WHERE job = 'test.failing'`,
        ),
      );
    expect(await read()).toEqual([{ status: 'failed', attempts: 1, error: 'boom' }]);
    // Make the retry due now (its delay is a minute of wall-clock time).
    const due = () =>
      database.db.system((tx) =>
        queryRows(tx, sql`UPDATE scheduled_job_runs SET lease_until = now() - interval '1 second'`),
      );
    for (let i = 0; i < 4; i++) {
      await due();
      await s.tick(new Date(Date.UTC(2026, 11, 5, 0, 1 + i)));
    }
    expect(calls).toBe(3);
    expect(await read()).toEqual([{ status: 'failed', attempts: 3, error: 'boom' }]);
  });

  it('takes over a run whose process died (lease expired) and ignores the late finish of the old owner', async () => {
    const { job, runs } = counting('test.takeover', '0 0 * * *');
    await database.db.system((tx) =>
      queryRows(
        tx,
        sql`INSERT INTO scheduled_job_runs (job, due_at, status, owner, lease_until)
            VALUES ('test.takeover', '2026-12-05T00:00:00Z', 'running', 'dead', now() - interval '1 second')`,
      ),
    );
    const s = new JobScheduler(deps, [job], { owner: 'alive' });
    await s.tick(new Date('2026-12-05T00:00:40Z'));
    expect(runs).toEqual(['2026-12-05T00:00:00.000Z']);
    const [row] = await database.db.system((tx) =>
      queryRows<{ status: string; owner: string; attempts: number }>(
        tx,
        sql`SELECT status, owner, attempts FROM scheduled_job_runs WHERE job = 'test.takeover'`,
      ),
    );
    expect(row).toEqual({ status: 'succeeded', owner: 'alive', attempts: 2 });
  });

  it('deletes claims older than a week that are over, except each job’s latest; hourly at most', async () => {
    const now = new Date('2027-03-01T12:00:00Z');
    const ago = (days: number) => new Date(now.getTime() - days * 86_400_000).toISOString();
    const claims: [string, string, string, number][] = [
      ['test.prune', ago(10), 'succeeded', 1], // old, over: deleted
      ['test.prune', ago(9), 'failed', 1], // will be retried: kept
      ['test.prune', ago(8.5), 'running', 1], // running (or abandoned, to be taken over): kept
      ['test.prune', ago(8), 'failed', 3], // failed for good: deleted
      ['test.prune', ago(2), 'succeeded', 1], // recent: kept
      ['test.prune.alone', ago(30), 'succeeded', 1], // its job's latest claim: kept
    ];
    await database.db.system((tx) =>
      tx.execute(sql`INSERT INTO scheduled_job_runs (job, due_at, status, attempts, owner, lease_until)
        SELECT c->>0, (c->>1)::timestamptz, c->>2, (c->>3)::int, 'old', (c->>1)::timestamptz
        FROM jsonb_array_elements(${JSON.stringify(claims)}::jsonb) c`),
    );
    const left = () =>
      database.db.system((tx) =>
        queryRows<{ job: string; due_at: string }>(
          tx,
          sql`SELECT job, due_at::text FROM scheduled_job_runs WHERE job LIKE 'test.prune%' ORDER BY job, due_at`,
        ),
      );
    const scheduler = new JobScheduler(deps, [], { owner: 'pruner' });
    await scheduler.tick(now);
    const kept = (await left()).map((r) => `${r.job} ${new Date(r.due_at).toISOString()}`);
    expect(kept).toEqual([
      `test.prune ${ago(9)}`,
      `test.prune ${ago(8.5)}`,
      `test.prune ${ago(2)}`,
      `test.prune.alone ${ago(30)}`,
    ]);
    // The next pass waits an hour.
    await database.db.system((tx) =>
      tx.execute(sql`INSERT INTO scheduled_job_runs (job, due_at, status, owner, lease_until)
        VALUES ('test.prune', ${ago(20)}::timestamptz, 'succeeded', 'old', now())`),
    );
    await scheduler.tick(new Date(now.getTime() + 60_000));
    expect(await left()).toHaveLength(5);
    await scheduler.tick(new Date(now.getTime() + 3_600_000));
    expect(await left()).toHaveLength(4);
  });

  it('the application role cannot read or write the claims', async () => {
    const error = await database.db.db.execute(sql`SELECT count(*) FROM scheduled_job_runs`).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(String((error?.cause as Error | undefined)?.message ?? error?.message)).toMatch(
      /permission denied/,
    );
  });
});
