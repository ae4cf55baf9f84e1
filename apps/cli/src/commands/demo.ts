import { loadConfig } from '@aiops/config';
import { openDb } from '@aiops/db';
import { DEMO_EMAIL, databaseOptions, resetDemoPassword } from '@aiops/server';

/**
 * `aiops demo reset-password`: sets a new password for the demo account and prints it. On PGlite the
 * server must be stopped first (one process per data directory); on PostgreSQL it may run.
 */
export async function demoResetPassword(options: { dataDir?: string }): Promise<void> {
  const config = loadConfig(undefined, options.dataDir !== undefined ? { dataDir: options.dataDir } : {});
  const db = await openDb(databaseOptions(config));
  try {
    const account = await resetDemoPassword(db);
    if (!account) {
      process.stderr.write(
        `aiops: this database has no demo account (${DEMO_EMAIL}): it is created only on a first start with AIOPS_DEMO=true. For another account use "Forgot password?" (the mailed link; without SMTP_URL the mail is in the server's log)\n`,
      );
      process.exitCode = 1;
      return;
    }
    process.stdout.write(
      `aiops: the demo account has a new password; its sessions are signed out\n  email:    ${account.email}\n  password: ${account.password}\n`,
    );
  } finally {
    await db.close();
  }
}
