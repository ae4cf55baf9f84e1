import { rollupAgentMetricsJob } from '../modules/agent-metrics/rollup-job.ts';
import { monthlyInvoicesJob, monthlyResetJob, overdueInvoicesJob } from '../modules/billing/jobs.ts';
import { externalAgentsSweepJob } from '../modules/external-agents/sweep-job.ts';
import { retentionJob } from '../modules/retention/retention-job.ts';
import type { ScheduledJob } from './types.ts';

/**
 * Every scheduled maintenance job, run by worker processes (roles `all` and `worker`): one line per job,
 * so branches merge cleanly.
 */
export const JOBS: ScheduledJob[] = [
  monthlyResetJob,
  monthlyInvoicesJob,
  overdueInvoicesJob,
  rollupAgentMetricsJob,
  retentionJob,
  externalAgentsSweepJob,
];
