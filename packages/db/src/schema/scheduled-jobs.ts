import { integer, pgTable, primaryKey, text, timestamp, varchar } from 'drizzle-orm/pg-core';

/**
 * One row per scheduled job and due time: the claim that makes a job run once per due time across any
 * number of worker processes and restarts. Not tenant data (maintenance jobs work across organizations);
 * only the owner role reads and writes it.
 */
export const scheduledJobRuns = pgTable(
  'scheduled_job_runs',
  {
    job: varchar('job', { length: 100 }).notNull(),
    dueAt: timestamp('due_at', { withTimezone: true, mode: 'date' }).notNull(),
    /** running | succeeded | failed */
    status: varchar('status', { length: 20 }).notNull(),
    attempts: integer('attempts').notNull().default(1),
    /** Who holds the claim (process id and host). */
    owner: varchar('owner', { length: 200 }).notNull(),
    /** A running claim past this time was abandoned (crash) and may be taken over; a failed one is retried after it. */
    leaseUntil: timestamp('lease_until', { withTimezone: true, mode: 'date' }).notNull(),
    startedAt: timestamp('started_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    finishedAt: timestamp('finished_at', { withTimezone: true, mode: 'date' }),
    error: text('error'),
  },
  (t) => [primaryKey({ columns: [t.job, t.dueAt] })],
);
