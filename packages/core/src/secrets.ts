import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * Secrets at rest (provider keys, webhook secrets, MFA seeds): AES-256-GCM under a key id, so keys can
 * be rotated. Ciphertext format: `v1.<keyId>.<iv b64url>.<tag b64url>.<data b64url>`.
 * Optional associated data binds a ciphertext to its owner (e.g. `integration:<id>`), so a ciphertext
 * copied onto another row does not decrypt.
 */
export class SecretDecryptionError extends Error {
  override name = 'SecretDecryptionError';
}

export interface Keyring {
  /** The key id new secrets are encrypted under. */
  currentKeyId: string;
  /** Every key that may still be needed to decrypt: id → 32-byte key. */
  keys: ReadonlyMap<string, Buffer>;
}

const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;

/** Parses `id1:base64key,id2:base64key` (each key 32 bytes) as given in AIOPS_ENCRYPTION_KEYS. */
export function parseKeyring(spec: string, currentKeyId?: string): Keyring {
  const keys = new Map<string, Buffer>();
  for (const part of spec
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const [id, b64, ...rest] = part.split(':');
    if (!id || !b64 || rest.length || !KEY_ID.test(id)) {
      throw new Error(
        `"${id ?? part}" is not of the form <keyId>:<base64 key> (key id: letters, digits, _ or -)`,
      );
    }
    const key = Buffer.from(b64, 'base64');
    if (key.length !== 32)
      throw new Error(`key "${id}" must be 32 bytes of base64 (got ${key.length} bytes)`);
    keys.set(id, key);
  }
  if (keys.size === 0) throw new Error('no keys given');
  const current = currentKeyId ?? [...keys.keys()].at(-1)!;
  if (!keys.has(current)) throw new Error(`current key id "${current}" is not among the keys`);
  return { currentKeyId: current, keys };
}

export function generateKey(): string {
  return randomBytes(32).toString('base64');
}

export class SecretBox {
  constructor(private readonly keyring: Keyring) {}

  get currentKeyId(): string {
    return this.keyring.currentKeyId;
  }

  encrypt(plaintext: string, associatedData = ''): string {
    const key = this.keyring.keys.get(this.keyring.currentKeyId)!;
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(Buffer.from(associatedData, 'utf8'));
    const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const tag = cipher.getAuthTag();
    return [
      'v1',
      this.keyring.currentKeyId,
      iv.toString('base64url'),
      tag.toString('base64url'),
      data.toString('base64url'),
    ].join('.');
  }

  decrypt(ciphertext: string, associatedData = ''): string {
    const parts = ciphertext.split('.');
    if (parts.length !== 5 || parts[0] !== 'v1')
      throw new SecretDecryptionError('not an encrypted secret of this product');
    const [, keyId, iv, tag, data] = parts as [string, string, string, string, string];
    const key = this.keyring.keys.get(keyId);
    if (!key)
      throw new SecretDecryptionError(`secret was encrypted under key "${keyId}", which is not configured`);
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
      decipher.setAAD(Buffer.from(associatedData, 'utf8'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]).toString(
        'utf8',
      );
    } catch {
      throw new SecretDecryptionError(
        `secret does not decrypt under key "${keyId}": wrong key, or the data was altered`,
      );
    }
  }

  /** The key id a ciphertext was made under (for rotation: re-encrypt those not under the current key). */
  static keyIdOf(ciphertext: string): string | undefined {
    const parts = ciphertext.split('.');
    return parts.length === 5 && parts[0] === 'v1' ? parts[1] : undefined;
  }
}
