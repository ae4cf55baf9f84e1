import type { ScheduledJob } from '../../jobs/types.ts';
import { agentWentOffline } from '../alerts/evaluate.ts';
import { sweepOffline } from './repo.ts';

/**
 * Every minute: external agents that missed their heartbeat window go offline. Idempotent, and safe with
 * any number of worker processes: the UPDATE only matches agents not yet offline, so each goes offline once,
 * and its `agent_offline` alerts open (with their notifications queued) once, in the same transaction.
 */
export const externalAgentsSweepJob: ScheduledJob = {
  name: 'external-agents.sweep',
  cron: '* * * * *',
  async run(ctx) {
    const changed = await ctx.db.system(async (tx) => {
      const changed = await sweepOffline(tx);
      for (const c of changed) await agentWentOffline(tx, c.organizationId, c.agentId);
      return changed;
    });
    if (changed.length) {
      ctx.log.info({ agents: changed.map((c) => c.agentId) }, 'external agents went offline');
    }
  },
};
