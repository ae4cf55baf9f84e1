import { queryRows } from '@aiops/db';
import { PARTITIONED_TABLES } from '@aiops/engine';
import { sql } from 'drizzle-orm';
import type { ScheduledJob } from '../../jobs/types.ts';

/**
 * Daily (02:15 UTC): this month's and the next two months' partitions of `execution_logs` and `spans`
 * (`aiops_ensure_partitions`, idempotent), so writes never meet a month without one. Dropping and
 * archiving expired months is the retention job's.
 */
export const ensurePartitionsJob: ScheduledJob = {
  name: 'observability.ensure-partitions',
  cron: '15 2 * * *',
  async run({ db, log }) {
    const created = await db.system(async (tx) => {
      let n = 0;
      for (const table of PARTITIONED_TABLES) {
        const [row] = await queryRows<{ n: number }>(
          tx,
          sql`SELECT aiops_ensure_partitions(${table}, 2) AS n`,
        );
        n += row?.n ?? 0;
      }
      return n;
    });
    if (created) log.info({ created }, 'observability partitions created');
  },
};
