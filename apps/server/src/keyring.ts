import { hkdfSync } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '@aiops/config';
import { ConfigError } from '@aiops/config';
import { generateKey, type Keyring, parseKeyring, SecretBox } from '@aiops/core';

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

/**
 * The access-token signing key: AIOPS_JWT_SECRET when set, else derived (HKDF-SHA256) from the current
 * encryption key, so `npm start` needs no setup and every process sharing the keyring agrees on it.
 */
export function jwtSecretFrom(config: Config, keyring: Keyring): Uint8Array {
  if (config.auth.jwtSecret) return new TextEncoder().encode(config.auth.jwtSecret);
  const key = keyring.keys.get(keyring.currentKeyId)!;
  return new Uint8Array(hkdfSync('sha256', key, 'aiops', 'access-token-signing', 32));
}

/** The secret box over the configured key ring (what the server and `aiops keys` encrypt with). */
export function loadSecrets(config: Config): SecretBox {
  return new SecretBox(loadKeyring(config));
}
