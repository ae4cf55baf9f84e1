import type { Config } from '@aiops/config';
import type { SecretBox } from '@aiops/core';
import type { Database } from '@aiops/db';
import type { Logger, Runs } from '@aiops/engine';
import { AgentScheduleLoop } from '../agent-schedules/loop.ts';
import { alertsOnOutbox } from '../alerts/evaluate.ts';
import { NatsPublisher } from '../events/nats.ts';
import { OutboxLoop } from '../events/outbox.ts';
import { syncPass } from '../sync/deliver.ts';
import { TriggerLoop } from './scheduler.ts';

export interface TriggerLoopDeps {
  db: Database;
  secrets: SecretBox;
  runs: Runs;
  log: Logger;
  config: Config;
}

/**
 * What the worker process runs beside the step worker: the trigger loop (cron schedules, queued firings)
 * the outbox loop (outbound events to NATS and webhook subscriptions; alert rules on finished runs) and
 * agents' schedules. Returns their stop function.
 */
export function startTriggerLoop(deps: TriggerLoopDeps): { stop(): Promise<void> } {
  const triggers = new TriggerLoop({ db: deps.db, runs: deps.runs, log: deps.log });
  const outbox = new OutboxLoop({
    db: deps.db,
    secrets: deps.secrets,
    nats: new NatsPublisher(deps.config.natsUrl),
    log: deps.log,
    privateNetworkCategories: deps.config.worker.privateNetworkCategories,
    // Alert rules on finished runs are evaluated as their workflow_finished events are dispatched.
    observe: alertsOnOutbox(deps.log),
    // Outbound sync targets are served by the same loop, after the sinks' deliveries.
    sync: syncPass(),
  });
  const agentSchedules = new AgentScheduleLoop({
    db: deps.db,
    runs: deps.runs,
    secrets: deps.secrets,
    log: deps.log,
    privateNetworkCategories: deps.config.worker.privateNetworkCategories,
  });
  triggers.start();
  outbox.start();
  agentSchedules.start();
  return {
    async stop() {
      await Promise.all([triggers.stop(), outbox.stop(), agentSchedules.stop()]);
    },
  };
}
