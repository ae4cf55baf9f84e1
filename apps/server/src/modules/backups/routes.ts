import { adminBackupsSchema } from '@aiops/contracts';
import { platformAuditLogs } from '@aiops/db';
import type { FastifyRequest } from 'fastify';
import type { AppModule } from '../../module.ts';
import { requirePlatformAdmin } from '../config/admins.ts';
import { backupFileName, listBackups, takeBackup } from './store.ts';

const tags = ['admin'];
const RECENT = 20;

/**
 * Online backups of the embedded database (issue 23) for platform admins: what is set up, and a download
 * of a consistent backup taken while the server keeps running. On PostgreSQL: pg_dump (a 409 says so).
 */
export const backupsModule: AppModule = () => async (app) => {
  app.get(
    '/admin/backups',
    {
      config: { permission: 'authenticated' },
      schema: {
        tags,
        summary: 'Backups of the embedded database: the schedule and the newest files (platform admins)',
        response: { 200: adminBackupsSchema },
      },
    },
    async (request) => {
      await requirePlatformAdmin(request);
      const schedule = request.server.jobDeps.settings.backup ?? null;
      return {
        embedded: Boolean(request.server.db.backup),
        schedule,
        recent: schedule
          ? listBackups(schedule.dir)
              .slice(0, RECENT)
              .map((b) => ({ file: b.file, bytes: b.bytes, createdAt: b.createdAt.toISOString() }))
          : [],
      };
    },
  );
  app.get(
    '/admin/backups/download',
    {
      config: { permission: 'authenticated' },
      schema: {
        tags,
        summary:
          'Download an online backup of the embedded database (gzip tarball for `aiops restore`); 409 on PostgreSQL',
      },
    },
    async (request, reply) => {
      const { userId } = await requirePlatformAdmin(request);
      const startedAt = new Date();
      const dump = await takeBackup(request.server.db);
      await audit(request, userId, { bytes: dump.length, ms: Date.now() - startedAt.getTime() });
      return reply
        .header('content-type', 'application/gzip')
        .header('content-disposition', `attachment; filename="${backupFileName(startedAt)}"`)
        .header('cache-control', 'no-store')
        .send(dump);
    },
  );
};

async function audit(request: FastifyRequest, userId: string, after: Record<string, unknown>) {
  await request.server.db.system((tx) =>
    tx.insert(platformAuditLogs).values({
      userId,
      action: 'backup.download',
      key: 'database',
      after,
      requestId: String(request.id).slice(0, 64),
    }),
  );
}
