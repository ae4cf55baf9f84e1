export { BackupError, backupPgliteDataDir, restorePgliteDataDir } from './backup.ts';
export type { EmbeddingInput, EmbeddingMatch, TextMatch, VectorMode } from './embeddings.ts';
export { EmbeddingStore } from './embeddings.ts';
export type { NotificationHandler, Unlisten } from './listen.ts';
export { DataDirLockedError, lockDataDir } from './lock.ts';
export { expectedMigrations, type MigrationStatus, migratePostgres, migrationsFolder } from './migrate.ts';
export {
  APP_ROLE,
  type Database,
  type DatabaseStatus,
  type OpenDbOptions,
  openDb,
  type TenantScope,
} from './open.ts';
export type { VacuumPass } from './pglite-vacuum.ts';
export { currentOrgId } from './schema/columns.ts';
export * from './schema/index.ts';
export type { RunStatement } from './statement.ts';
export { dumpMigratedPglite, migrationsHash } from './template.ts';
export type { AppDb, BackendKind, Executor, Schema, Tx } from './types.ts';
export { queryRows } from './types.ts';
export { isDatabaseUnavailable } from './unavailable.ts';
