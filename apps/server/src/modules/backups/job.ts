import type { ScheduledJob } from '../../jobs/types.ts';
import { runScheduledBackup } from './store.ts';

/**
 * Scheduled backups of the embedded database (AIOPS_BACKUP_DIR): every 10 minutes it checks whether the
 * newest backup is older than AIOPS_BACKUP_EVERY_HOURS, writes one if so, and keeps AIOPS_BACKUP_KEEP.
 * Nothing to do without AIOPS_BACKUP_DIR or on PostgreSQL (the configuration refuses that pairing).
 */
export const backupsEmbeddedJob: ScheduledJob = {
  name: 'backups.embedded',
  cron: '*/10 * * * *',
  leaseMs: 30 * 60_000,
  async run(ctx) {
    const schedule = ctx.settings.backup;
    if (!schedule || !ctx.db.backup) return;
    const report = await runScheduledBackup(ctx.db, schedule, new Date());
    if (report.written || report.pruned.length > 0) {
      ctx.log.info({ dir: schedule.dir, ...report }, 'scheduled backup of the embedded database');
    }
  },
};
