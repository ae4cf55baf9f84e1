import { describe, expect, it } from 'vitest';
import { generateKey, parseKeyring, SecretBox, SecretDecryptionError } from './secrets.ts';

describe('SecretBox', () => {
  const k1 = generateKey();
  const k2 = generateKey();

  it('round-trips, binds associated data, and names the key id', () => {
    const box = new SecretBox(parseKeyring(`k1:${k1}`));
    const c = box.encrypt('sk-live-123', 'integration:a');
    expect(c).not.toContain('sk-live-123');
    expect(SecretBox.keyIdOf(c)).toBe('k1');
    expect(box.decrypt(c, 'integration:a')).toBe('sk-live-123');
    expect(() => box.decrypt(c, 'integration:b')).toThrow(SecretDecryptionError);
    expect(box.encrypt('x')).not.toBe(box.encrypt('x'));
  });

  it('decrypts old secrets after a new key becomes current; refuses an unknown or wrong key', () => {
    const old = new SecretBox(parseKeyring(`k1:${k1}`));
    const c = old.encrypt('secret');
    const rotated = new SecretBox(parseKeyring(`k1:${k1},k2:${k2}`));
    expect(rotated.currentKeyId).toBe('k2');
    expect(rotated.decrypt(c)).toBe('secret');
    expect(SecretBox.keyIdOf(rotated.encrypt('secret'))).toBe('k2');
    expect(() => new SecretBox(parseKeyring(`k2:${k2}`)).decrypt(c)).toThrow(
      /key "k1", which is not configured/,
    );
    expect(() => new SecretBox(parseKeyring(`k1:${k2}`)).decrypt(c)).toThrow(/wrong key/);
  });

  it('rejects malformed keyrings', () => {
    expect(() => parseKeyring('')).toThrow(/no keys/);
    expect(() => parseKeyring('k1:short')).toThrow(/32 bytes/);
    expect(() => parseKeyring(`bad id:${k1}`)).toThrow(/form/);
    expect(() => parseKeyring(`k1:${k1}`, 'k9')).toThrow(/k9/);
  });
});
