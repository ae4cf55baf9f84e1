import { loadConfig } from '@aiops/config';
import { openDb } from '@aiops/db';
import { databaseOptions } from '@aiops/server';

/** `aiops migrate`: applies pending migrations and reports how many are applied. */
export async function migrate(options: { dataDir?: string }): Promise<void> {
  const config = loadConfig(undefined, options.dataDir !== undefined ? { dataDir: options.dataDir } : {});
  const db = await openDb(databaseOptions(config));
  try {
    const { migrations } = await db.status();
    process.stdout.write(
      `aiops: ${migrations.applied} of ${migrations.expected} migrations applied (${db.kind})\n`,
    );
  } finally {
    await db.close();
  }
}
