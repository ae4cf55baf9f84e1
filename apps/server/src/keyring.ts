import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '@aiops/config';
import { ConfigError } from '@aiops/config';
import { generateKey, type Keyring, parseKeyring } from '@aiops/core';

/**
 * The encryption keys for secrets at rest. From AIOPS_ENCRYPTION_KEYS when set (required when several
 * processes must read each other's secrets); otherwise from a key file that the first start creates
 * (mode 0600), so `npm start` needs no setup.
 */
export function loadKeyring(config: Config): Keyring {
  const { keys, currentKeyId, keyFile } = config.encryption;
  if (keys) {
    try {
      return parseKeyring(keys, currentKeyId);
    } catch (e) {
      throw new ConfigError(`Invalid configuration: AIOPS_ENCRYPTION_KEYS: ${(e as Error).message}`);
    }
  }
  const file = path.resolve(keyFile);
  if (!existsSync(file)) {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, `k1:${generateKey()}\n`, { mode: 0o600, flag: 'wx' });
  }
  chmodSync(file, 0o600);
  try {
    return parseKeyring(readFileSync(file, 'utf8').trim(), currentKeyId);
  } catch (e) {
    throw new ConfigError(`Invalid key file ${file} (AIOPS_KEY_FILE): ${(e as Error).message}`);
  }
}
