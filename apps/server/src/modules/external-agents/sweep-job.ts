import type { ScheduledJob } from '../../jobs/types.ts';
import { type AlertChange, agentWentOffline, notify } from '../alerts/evaluate.ts';
import { sweepOffline } from './repo.ts';

/**
 * Every minute: external agents that missed their heartbeat window go offline. Idempotent, and safe with
 * any number of worker processes: the UPDATE only matches agents not yet offline, so each goes offline once,
 * and its `agent_offline` alerts open (and are mailed) once, in the same transaction.
 */
export const externalAgentsSweepJob: ScheduledJob = {
  name: 'external-agents.sweep',
  cron: '* * * * *',
  async run(ctx) {
    const { changed, alerts } = await ctx.db.system(async (tx) => {
      const changed = await sweepOffline(tx);
      const alerts: AlertChange[] = [];
      for (const c of changed) alerts.push(...(await agentWentOffline(tx, c.agentId)));
      return { changed, alerts };
    });
    if (changed.length) {
      ctx.log.info({ agents: changed.map((c) => c.agentId) }, 'external agents went offline');
    }
    await notify(
      {
        mailer: ctx.mailer,
        secrets: ctx.secrets,
        publicUrl: ctx.settings.publicUrl,
        privateNetworkCategories: ctx.settings.privateNetworkCategories,
        log: ctx.log,
      },
      alerts,
    );
  },
};
