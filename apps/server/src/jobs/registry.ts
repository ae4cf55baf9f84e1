import { monthlyInvoicesJob, monthlyResetJob, overdueInvoicesJob } from '../modules/billing/jobs.ts';
import { ensurePartitionsJob } from '../modules/observability/jobs.ts';
import type { ScheduledJob } from './types.ts';

/**
 * Every scheduled maintenance job, run by worker processes (roles `all` and `worker`): one line per job,
 * so branches merge cleanly.
 */
export const JOBS: ScheduledJob[] = [
  monthlyResetJob,
  monthlyInvoicesJob,
  overdueInvoicesJob,
  ensurePartitionsJob,
];
