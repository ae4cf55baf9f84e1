import type { Runs } from '@aiops/engine';
import { type AgentCallDeps, callDueAgents, earliestAgentDue, fireDueAgentSchedules } from './calls.ts';
import { runDueAgents } from './runs.ts';

export type AgentLoopDeps = AgentCallDeps & { runs: Runs };

/**
 * The worker's loop of agent schedules: records due calls (waking at the earliest due time, at most a
 * second apart), and makes the calls and starts the runs without holding up the next pass (a slow agent
 * delays only its own call).
 */
export class AgentScheduleLoop {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private calling: Promise<unknown> | undefined;
  private stopped = true;

  constructor(
    private readonly deps: AgentLoopDeps,
    private readonly maxSleepMs = 1000,
  ) {}

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  private schedule(ms: number) {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.pass().then((sleep) => this.schedule(sleep));
    }, ms);
    this.timer.unref?.();
  }

  private async pass(): Promise<number> {
    try {
      await fireDueAgentSchedules(this.deps.db);
      this.calling ??= Promise.all([callDueAgents(this.deps), runDueAgents(this.deps)])
        .catch((e) => this.deps.log.error({ err: e }, 'scheduled agent calls failed'))
        .finally(() => {
          this.calling = undefined;
        });
      const next = await earliestAgentDue(this.deps.db);
      if (!next) return this.maxSleepMs;
      return Math.max(5, Math.min(this.maxSleepMs, next.getTime() - Date.now() + 2));
    } catch (e) {
      if (!this.stopped) this.deps.log.error({ err: e }, 'agent schedule pass failed');
      return this.maxSleepMs;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
    await this.calling;
  }
}
