import type { ScheduledJob } from '../../jobs/types.ts';
import { sweepOffline } from './repo.ts';

/**
 * Every minute: external agents that missed their heartbeat window go offline. Idempotent, and safe with
 * any number of worker processes: the UPDATE only matches agents not yet offline, so each goes offline once.
 */
export const externalAgentsSweepJob: ScheduledJob = {
  name: 'external-agents.sweep',
  cron: '* * * * *',
  async run(ctx) {
    const changed = await ctx.db.system((tx) => sweepOffline(tx));
    if (changed.length)
      ctx.log.info({ agents: changed.map((c) => c.agentId) }, 'external agents went offline');
  },
};
