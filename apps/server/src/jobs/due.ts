import { Cron } from 'croner';

/** Windows tried, smallest first, when looking for the latest fire time at or before now. */
const WINDOWS_MS = [60_000, 3_600_000, 86_400_000, 32 * 86_400_000, 367 * 86_400_000];

/**
 * The latest time at or before `now` at which `cron` fires, or undefined when it did not fire in the last
 * year. Searches growing windows so that a minutely pattern walks a minute and a monthly one a month.
 */
export function latestDue(cron: Cron, now: Date): Date | undefined {
  for (const window of WINDOWS_MS) {
    let next = cron.nextRun(new Date(now.getTime() - window));
    if (!next || next.getTime() > now.getTime()) continue;
    let latest = next;
    while (true) {
      next = cron.nextRun(latest);
      if (!next || next.getTime() > now.getTime()) return latest;
      latest = next;
    }
  }
  return undefined;
}

/** A paused croner instance used only to compute fire times; throws a clear error on a bad pattern. */
export function parseCron(pattern: string, timezone?: string): Cron {
  try {
    return new Cron(pattern, { paused: true, ...(timezone ? { timezone } : {}) });
  } catch (e) {
    throw new TypeError(
      `invalid cron "${pattern}"${timezone ? ` (${timezone})` : ''}: ${(e as Error).message}`,
    );
  }
}
