import { rollupAgentMetricsJob } from '../modules/agent-metrics/rollup-job.ts';
import { alertsSweepJob } from '../modules/alerts/jobs.ts';
import { backupsEmbeddedJob } from '../modules/backups/job.ts';
import {
  monthlyInvoicesJob,
  monthlyResetJob,
  overdueInvoicesJob,
  storageSnapshotJob,
} from '../modules/billing/jobs.ts';
import { pruneEventsJob } from '../modules/events/jobs.ts';
import { externalAgentsSweepJob } from '../modules/external-agents/sweep-job.ts';
import { learningJob } from '../modules/learning/workflow-patterns.ts';
import { ensurePartitionsJob } from '../modules/observability/jobs.ts';
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
  storageSnapshotJob,
  rollupAgentMetricsJob,
  retentionJob,
  learningJob,
  ensurePartitionsJob,
  pruneEventsJob,
  externalAgentsSweepJob,
  alertsSweepJob,
  backupsEmbeddedJob,
];
