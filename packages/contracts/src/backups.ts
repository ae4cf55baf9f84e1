import { z } from 'zod';

/** GET /admin/backups: whether online backups are possible here, the schedule, and the newest files. */
export const adminBackupsSchema = z.object({
  embedded: z
    .boolean()
    .describe('true: PGlite, the server can back itself up; false: PostgreSQL, use pg_dump or PITR'),
  schedule: z
    .object({ dir: z.string(), everyHours: z.number(), keep: z.number() })
    .nullable()
    .describe('AIOPS_BACKUP_DIR, AIOPS_BACKUP_EVERY_HOURS, AIOPS_BACKUP_KEEP; null: no scheduled backups'),
  recent: z
    .array(z.object({ file: z.string(), bytes: z.number(), createdAt: z.string() }))
    .describe('backups in the schedule directory, newest first'),
});
export type AdminBackups = z.infer<typeof adminBackupsSchema>;
