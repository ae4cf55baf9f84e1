import { loadConfig } from '@aiops/config';
import { type Database, openDb } from '@aiops/db';
import { databaseOptions, loadSecrets, rotateSecrets, secretKeyStatus } from '@aiops/server';

interface KeysOptions {
  dataDir?: string;
}

async function withDb<T>(
  options: KeysOptions,
  fn: (db: Database, secrets: ReturnType<typeof loadSecrets>) => Promise<T>,
) {
  const config = loadConfig(undefined, options.dataDir !== undefined ? { dataDir: options.dataDir } : {});
  const secrets = loadSecrets(config);
  const db = await openDb(databaseOptions(config));
  try {
    return await fn(db, secrets);
  } finally {
    await db.close();
  }
}

/** `aiops keys status`: which key ids the secrets at rest are under. */
export function keysStatus(options: KeysOptions): Promise<void> {
  return withDb(options, async (db, secrets) => {
    process.stdout.write(`aiops: current key id: ${secrets.currentKeyId}\n`);
    for (const s of await secretKeyStatus(db)) {
      const parts = Object.entries(s.byKeyId).map(
        ([id, n]) => `${n} under ${id}${id === secrets.currentKeyId ? ' (current)' : ''}`,
      );
      process.stdout.write(`  ${s.kind}: ${parts.length ? parts.join(', ') : 'none'}\n`);
    }
  });
}

/**
 * `aiops keys rotate`: re-encrypts every secret at rest under the current key id (AIOPS_ENCRYPTION_KEY_ID,
 * else the last key of AIOPS_ENCRYPTION_KEYS). Idempotent. Exits 1 when a secret does not decrypt.
 */
export function keysRotate(options: KeysOptions): Promise<void> {
  return withDb(options, async (db, secrets) => {
    const counts = await rotateSecrets(db, secrets);
    process.stdout.write(`aiops: re-encrypting secrets under key id ${secrets.currentKeyId}\n`);
    for (const c of counts) {
      process.stdout.write(
        `  ${c.kind}: ${c.rotated} re-encrypted, ${c.current} already current, ${c.failed} failed (of ${c.total})\n`,
      );
    }
    const failed = counts.reduce((n, c) => n + c.failed, 0);
    if (failed > 0) {
      process.stderr.write(
        `aiops: ${failed} secret(s) do not decrypt with the configured keys: keep every old key in AIOPS_ENCRYPTION_KEYS until rotation succeeds\n`,
      );
      process.exitCode = 1;
    }
  });
}
