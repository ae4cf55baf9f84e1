import { badRequest } from '@aiops/core';
import { Cron } from 'croner';

/** A cron expression (5 or 6 fields) in an IANA time zone; throws a 400 that says what to fix. */
export function checkSchedule(cron: string, timezone: string, path = 'body.schedule'): void {
  try {
    new Intl.DateTimeFormat('en', { timeZone: timezone });
  } catch {
    throw badRequest(`"${timezone}" is not an IANA time zone (e.g. Europe/Berlin, America/New_York, UTC)`, {
      issues: [{ path: `${path}.timezone`, message: 'unknown time zone' }],
    });
  }
  let job: Cron;
  try {
    job = new Cron(cron, { timezone, paused: true });
  } catch (e) {
    throw badRequest(`"${cron}" is not a cron expression: ${(e as Error).message}`, {
      issues: [{ path: `${path}.cron`, message: 'invalid cron expression' }],
    });
  }
  if (!job.nextRun()) {
    throw badRequest(`"${cron}" never fires`, { issues: [{ path: `${path}.cron`, message: 'never fires' }] });
  }
}

/**
 * The fire times strictly after `after`, in order. Croner resolves times that a DST change skips to the
 * first instant after the gap, and fires once per UTC instant a wall-clock time matches (a repeated hour
 * at the fall-back change matches twice for hourly patterns, once for fixed-hour daily ones).
 */
export function nextFireTimes(cron: string, timezone: string, after: Date, count: number): Date[] {
  const job = new Cron(cron, { timezone, paused: true });
  return job.nextRuns(count, after);
}

export function nextFireTime(cron: string, timezone: string, after: Date): Date | null {
  return nextFireTimes(cron, timezone, after, 1)[0] ?? null;
}
