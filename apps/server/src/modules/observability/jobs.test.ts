import { queryRows } from '@aiops/db';
import { testBackend } from '@aiops/testing';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runJobNow } from '../../jobs/index.ts';
import { JOBS } from '../../jobs/registry.ts';
import { startTestServer, type TestServer } from '../../test-support.ts';
import { ensurePartitionsJob } from './jobs.ts';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
}, 60_000);
afterAll(() => s?.close());

describe(`observability.ensure-partitions on ${testBackend()}`, () => {
  it("creates this month's and the next two months' partitions of execution_logs and spans, idempotently", async () => {
    expect(JOBS).toContain(ensurePartitionsJob);
    const month = (offset: number) => {
      const now = new Date();
      const d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + offset, 1));
      return `${d.getUTCFullYear()}${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
    };
    const parts = () =>
      s.database.db.system((tx) =>
        queryRows<{ name: string }>(
          tx,
          sql`SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
              JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname IN ('execution_logs', 'spans')`,
        ),
      );
    const before = (await parts()).map((p) => p.name);
    expect(before).not.toContain(`spans_y${month(2).slice(0, 4)}m${month(2).slice(4)}`);
    await runJobNow(ensurePartitionsJob, s.app.jobDeps);
    await runJobNow(ensurePartitionsJob, s.app.jobDeps);
    const after = (await parts()).map((p) => p.name).sort();
    for (const t of ['execution_logs', 'spans'])
      for (const m of [0, 1, 2])
        expect(after).toContain(`${t}_y${month(m).slice(0, 4)}m${month(m).slice(4)}`);
    expect(after).toHaveLength(before.length + 2);
  });
});
