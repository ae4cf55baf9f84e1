export { latestDue, parseCron } from './due.ts';
export { JOBS } from './registry.ts';
export { JobScheduler, runJobNow, type SchedulerOptions } from './scheduler.ts';
export type { JobContext, JobDeps, ScheduledJob } from './types.ts';
