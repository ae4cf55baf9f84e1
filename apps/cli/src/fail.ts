import { ConfigError } from '@aiops/config';
import { BackupError, DataDirLockedError } from '@aiops/db';

/** Expected failures print one line and exit 1; anything else prints its stack (a bug to report). */
export function fail(error: unknown): never {
  if (error instanceof ConfigError || error instanceof DataDirLockedError || error instanceof BackupError) {
    process.stderr.write(`aiops: ${error.message}\n`);
  } else if (isConnectionRefused(error)) {
    process.stderr.write(
      `aiops: cannot reach the database (${(error as Error).message}); is PostgreSQL running and DATABASE_URL right?\n`,
    );
  } else {
    process.stderr.write(
      `aiops: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
  }
  process.exit(1);
}

function isConnectionRefused(error: unknown): boolean {
  const code = (error as { code?: string } | null)?.code;
  return (
    code === 'ECONNREFUSED' ||
    code === 'ENOTFOUND' ||
    code === '3D000' ||
    code === '28P01' ||
    code === '28000'
  );
}
