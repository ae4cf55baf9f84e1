import { validationFailed } from '@aiops/core';
import { ZxcvbnFactory } from '@zxcvbn-ts/core';
import * as common from '@zxcvbn-ts/language-common';
import * as en from '@zxcvbn-ts/language-en';
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

/** Below this zxcvbn score (0–4; 3 = "safely unguessable": about 10^8 guesses or more) a password is refused. */
export const MIN_PASSWORD_SCORE = 3;

let estimator: ZxcvbnFactory | undefined;
/** zxcvbn-ts with its common-password, name and English word lists (loaded at first use, ~40 ms). */
const strength = () =>
  (estimator ??= new ZxcvbnFactory({
    dictionary: { ...common.dictionary, ...en.dictionary },
    graphs: common.adjacencyGraphs,
    translations: en.translations,
    // Bounded work on the event loop (measured: p95 30 ms, worst 70 ms, instead of 0.8 s): only the first
    // 40 characters are judged, and l33t variants of a word are tried up to 5 substitutions.
    maxLength: 40,
    l33tMaxSubstitutions: 5,
  }));

/**
 * The strength rule: at least 10 characters with three of lower case, upper case, digits and symbols,
 * or a passphrase of 16 or more characters; not containing the email's name; and hard to guess by
 * zxcvbn's estimate (common and breached passwords, words, names, dates, keyboard patterns, l33t).
 * Returns what to fix, or null when the password is acceptable.
 */
export function passwordProblem(password: string, email?: string): string | null {
  if (password.length < 10) return 'must be at least 10 characters long';
  const classes = [/[a-z]/, /[A-Z]/, /\d/, /[^A-Za-z0-9]/].filter((r) => r.test(password)).length;
  if (password.length < 16 && classes < 3) {
    return 'must mix three of: lower case, upper case, digits, symbols (or be a passphrase of 16+ characters)';
  }
  if (new Set(password).size < 5) return 'repeats too few different characters';
  const local = email?.split('@')[0]?.toLowerCase();
  if (local && local.length >= 4 && password.toLowerCase().includes(local)) {
    return 'must not contain your email address';
  }
  const result = strength().check(password, local ? [local] : []);
  if (result.score < MIN_PASSWORD_SCORE) {
    const why = result.feedback.warning ?? 'It follows a pattern that is guessed quickly.';
    const fix = result.feedback.suggestions.join(' ') || 'Add more uncommon words.';
    return `is too easy to guess (${why.replace(/\.$/, '')}): ${fix} A few unrelated words make a strong password`;
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
