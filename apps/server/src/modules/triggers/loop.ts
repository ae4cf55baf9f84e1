import type { Config } from '@aiops/config';
import type { SecretBox } from '@aiops/core';
import type { Database } from '@aiops/db';
import type { Logger, Runs } from '@aiops/engine';
import { TriggerLoop } from './scheduler.ts';

export interface TriggerLoopDeps {
  db: Database;
  secrets: SecretBox;
  runs: Runs;
  log: Logger;
  config?: Config;
}

/**
 * What the worker process runs beside the step worker: the trigger loop (cron schedules, queued firings).
 * Returns its stop function.
 */
export function startTriggerLoop(deps: TriggerLoopDeps): { stop(): Promise<void> } {
  const loop = new TriggerLoop({ db: deps.db, runs: deps.runs, log: deps.log });
  loop.start();
  return { stop: () => loop.stop() };
}
