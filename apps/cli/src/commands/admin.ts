import { loadConfig } from '@aiops/config';
import { openDb } from '@aiops/db';
import { databaseOptions, listPlatformAdmins, setPlatformAdmin } from '@aiops/server';

interface AdminOptions {
  dataDir?: string;
}

const open = (options: AdminOptions) =>
  openDb(
    databaseOptions(loadConfig(undefined, options.dataDir !== undefined ? { dataDir: options.dataDir } : {})),
  );

/**
 * `aiops admin grant|revoke <email>`: makes a user a platform admin (an operator of this installation, who
 * may use /admin/config and Admin → Configuration) or no longer one. Recorded in platform_audit_logs.
 */
export async function adminSet(email: string, admin: boolean, options: AdminOptions): Promise<void> {
  const db = await open(options);
  try {
    const changed = await setPlatformAdmin(db, email, admin);
    const what = admin ? 'is a platform admin' : 'is not a platform admin';
    process.stdout.write(`aiops: ${email} ${what}${changed ? '' : ' (unchanged)'}\n`);
  } catch (e) {
    const status = (e as { status?: number }).status;
    if (typeof status !== 'number' || status >= 500) throw e;
    process.stderr.write(`aiops: ${(e as Error).message}\n`);
    process.exitCode = 1;
  } finally {
    await db.close();
  }
}

/** `aiops admin list`: the platform admins. */
export async function adminList(options: AdminOptions): Promise<void> {
  const db = await open(options);
  try {
    const rows = await listPlatformAdmins(db);
    if (rows.length === 0) process.stdout.write('aiops: no platform admins (aiops admin grant <email>)\n');
    for (const r of rows) process.stdout.write(`${r.email}\t${r.grantedAt.toISOString()}\n`);
  } finally {
    await db.close();
  }
}
