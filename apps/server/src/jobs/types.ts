import type { SecretBox } from '@aiops/core';
import type { Database } from '@aiops/db';
import type { FastifyBaseLogger } from 'fastify';
import type { Mailer } from '../services/mailer.ts';
import type { ServerSettings } from '../settings.ts';

/** What a scheduled job is given besides its due time: the process's services. */
export interface JobDeps {
  db: Database;
  secrets: SecretBox;
  mailer: Mailer;
  settings: ServerSettings;
  log: FastifyBaseLogger;
}

export interface JobContext extends JobDeps {
  /** The cron time this run is for (not when it started): a job computes its period from it. */
  dueAt: Date;
  /** Aborted when the process shuts down; a long job stops early and is retried after its lease. */
  signal: AbortSignal;
}

/**
 * A maintenance job run by the worker processes on a cron schedule, once per due time across every
 * process and restart. Its body runs at least once per due time and is recorded once as succeeded, so
 * it must be idempotent (a crashed run is taken over when its lease expires).
 */
export interface ScheduledJob {
  /** Unique, `<module>.<job>`, at most 100 characters. */
  name: string;
  /** A cron pattern (croner: 5 or 6 fields, `@daily`, …). */
  cron: string;
  /** IANA time zone of the pattern (default UTC). */
  timezone?: string;
  /** How long a run may take before another process may take it over (default 5 minutes). */
  leaseMs?: number;
  run(ctx: JobContext): Promise<void>;
}
