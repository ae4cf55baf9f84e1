import { validationFailed } from '@aiops/core';
import argon2 from 'argon2';

/** argon2id with OWASP's parameters (19 MiB, 2 passes, 1 lane). */
const OPTIONS = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export function hashPassword(password: string): Promise<string> {
  return argon2.hash(password, OPTIONS);
}

let dummy: Promise<string> | undefined;

/** Verifies a password; with no hash (unknown user) it still spends the same time, then fails. */
export async function verifyPassword(hash: string | null | undefined, password: string): Promise<boolean> {
  if (!hash) {
    dummy ??= hashPassword('not-a-real-password-timing-only');
    await argon2.verify(await dummy, password).catch(() => false);
    return false;
  }
  try {
    return await argon2.verify(hash, password);
  } catch {
    return false;
  }
}

const COMMON = new Set([
  'password',
  'password1',
  'password123',
  '1234567890',
  'qwertyuiop',
  'iloveyou',
  'letmein123',
  'welcome123',
  'administrator',
  'changeme123',
]);

/**
 * The strength rule: at least 10 characters with three of lower case, upper case, digits and symbols,
 * or a passphrase of 16 or more characters; not a well-known password; not containing the email's name.
 * Returns what to fix, or null when the password is acceptable.
 */
export function passwordProblem(password: string, email?: string): string | null {
  if (password.length < 10) return 'must be at least 10 characters long';
  const classes = [/[a-z]/, /[A-Z]/, /\d/, /[^A-Za-z0-9]/].filter((r) => r.test(password)).length;
  if (password.length < 16 && classes < 3) {
    return 'must mix three of: lower case, upper case, digits, symbols (or be a passphrase of 16+ characters)';
  }
  if (new Set(password).size < 5) return 'repeats too few different characters';
  if (COMMON.has(password.toLowerCase())) return 'is a well-known password: choose another';
  const local = email?.split('@')[0]?.toLowerCase();
  if (local && local.length >= 4 && password.toLowerCase().includes(local)) {
    return 'must not contain your email address';
  }
  return null;
}

export function assertStrongPassword(password: string, email: string | undefined, path: string): void {
  const problem = passwordProblem(password, email);
  if (problem) {
    throw validationFailed(`Invalid request: ${path}: the password ${problem}`, [
      { path, message: `the password ${problem}` },
    ]);
  }
}
