import { randomBytes } from 'node:crypto';
import type { SecretBox } from '@aiops/core';
import { AppError, conflict } from '@aiops/core';
import { type Tx, users } from '@aiops/db';
import { and, eq, isNull, lt, or } from 'drizzle-orm';
import type { FastifyRequest } from 'fastify';
import { Secret, TOTP } from 'otpauth';
import QRCode from 'qrcode';
import { userOf } from '../../http/auth.ts';
import { audit, tenant } from '../../http/tenant.ts';
import type { ModuleDeps } from '../../module.ts';
import { verifyPassword } from '../../services/passwords.ts';
import { sha256 } from '../../services/tokens.ts';
import { findUserById, type UserRow } from './repo.ts';

const ISSUER = 'AI Ops Studio';
const RECOVERY_CODES = 10;
/** The MFA secret's ciphertext is bound to its user: copied onto another row it does not decrypt. */
export const mfaSecretAad = (userId: string) => `mfa:${userId}`;
const aad = mfaSecretAad;

const totpOf = (secretBase32: string, label: string) =>
  new TOTP({ issuer: ISSUER, label, secret: Secret.fromBase32(secretBase32), digits: 6, period: 30 });

function recoveryCode(): string {
  const b32 = randomBytes(10).toString('hex').toUpperCase();
  return `${b32.slice(0, 5)}-${b32.slice(5, 10)}-${b32.slice(10, 15)}-${b32.slice(15, 20)}`;
}
const normalizeRecovery = (code: string) => code.trim().toUpperCase().replace(/\s+/g, '');

/**
 * Records a TOTP time step as used, atomically: false when another request used this step (or a later
 * one) first, so the same code cannot sign in twice even concurrently. `ex`: the user's own transaction,
 * or `system` while signing in.
 */
export async function claimTotpStep(ex: Tx, userId: string, step: number): Promise<boolean> {
  const rows = await ex
    .update(users)
    .set({ mfaLastUsedStep: step })
    .where(and(eq(users.id, userId), or(isNull(users.mfaLastUsedStep), lt(users.mfaLastUsedStep, step))))
    .returning({ id: users.id });
  return rows.length === 1;
}

const badCode = () =>
  new AppError(
    401,
    'invalid_mfa_code',
    'The authentication code is wrong or expired: use the current code of your app, or a recovery code',
  );

export interface MfaProof {
  totp?: string | undefined;
  recoveryCode?: string | undefined;
}

/**
 * Checks a second factor of a user with MFA on. A TOTP code may be one step early or late (clock drift).
 * A recovery code works once: returns the hashes left, for the caller to store in its transaction.
 */
export function checkSecondFactor(
  secrets: SecretBox,
  user: UserRow,
  proof: MfaProof,
): { ok: boolean; remainingRecoveryCodes?: string[]; step?: number } {
  if (proof.totp && user.mfaSecret) {
    const secret = secrets.decrypt(user.mfaSecret, aad(user.id));
    const delta = totpOf(secret, user.email).validate({ token: proof.totp, window: 1 });
    if (delta === null) return { ok: false };
    const step = Math.floor(Date.now() / 30_000) + delta;
    // A code is good once: one already used (or older than the last used) is a replay.
    if (user.mfaLastUsedStep !== null && step <= user.mfaLastUsedStep) return { ok: false };
    return { ok: true, step };
  }
  if (proof.recoveryCode) {
    const hash = sha256(normalizeRecovery(proof.recoveryCode));
    if (!user.mfaRecoveryCodes.includes(hash)) return { ok: false };
    return { ok: true, remainingRecoveryCodes: user.mfaRecoveryCodes.filter((h) => h !== hash) };
  }
  return { ok: false };
}

/** Starts enrolment: a new secret, stored encrypted and inactive until a code proves the app has it. */
export async function enrol(deps: ModuleDeps, request: FastifyRequest) {
  const { userId } = userOf(request);
  return tenant(request, async (tx) => {
    const user = await mustFindUser(tx, userId);
    if (user.mfaEnabled)
      throw conflict('Two-factor authentication is already on: disable it first to re-enrol');
    const secret = new Secret({ size: 20 });
    await tx
      .update(users)
      .set({ mfaSecret: deps.secrets.encrypt(secret.base32, aad(userId)), updatedAt: new Date() })
      .where(eq(users.id, userId));
    await audit(tx, request, { entityType: 'user', entityId: userId, action: 'mfa_enrolment_started' });
    const otpauthUri = totpOf(secret.base32, user.email).toString();
    return { otpauthUri, qrCodeDataUrl: await QRCode.toDataURL(otpauthUri) };
  });
}

/** Turns MFA on once a code from the app checks out; returns recovery codes (shown once, stored hashed). */
export async function activate(deps: ModuleDeps, request: FastifyRequest, code: string) {
  const { userId } = userOf(request);
  return tenant(request, async (tx) => {
    const user = await mustFindUser(tx, userId);
    if (user.mfaEnabled) throw conflict('Two-factor authentication is already on');
    if (!user.mfaSecret) {
      throw new AppError(409, 'mfa_not_enrolled', 'Start enrolment first: POST /api/v1/auth/mfa/enrol');
    }
    const check = checkSecondFactor(deps.secrets, user, { totp: code });
    if (!check.ok || !(await claimTotpStep(tx, userId, check.step!))) throw badCode();
    const codes = Array.from({ length: RECOVERY_CODES }, recoveryCode);
    await tx
      .update(users)
      .set({
        mfaEnabled: true,
        mfaRecoveryCodes: codes.map((c) => sha256(normalizeRecovery(c))),
        updatedAt: new Date(),
      })
      .where(eq(users.id, userId));
    await audit(tx, request, {
      entityType: 'user',
      entityId: userId,
      action: 'mfa_enabled',
      before: { mfaEnabled: false },
      after: { mfaEnabled: true },
    });
    return { recoveryCodes: codes };
  });
}

/** Turns MFA off: needs the password and a current code (or a recovery code). */
export async function disable(
  deps: ModuleDeps,
  request: FastifyRequest,
  body: { password: string; code: string },
) {
  const { userId } = userOf(request);
  const user = await tenant(request, (tx) => mustFindUser(tx, userId));
  if (!user.mfaEnabled) throw conflict('Two-factor authentication is not on');
  // Password and code guesses count against the sign-in limits, reserved before either is checked.
  const attempt = await deps.rateLimits.reserveLogin(user.email, request.ip);
  if (!(await verifyPassword(user.passwordHash, body.password))) {
    throw new AppError(401, 'invalid_credentials', 'The password is wrong');
  }
  const proof = /^\d{6}$/.test(body.code) ? { totp: body.code } : { recoveryCode: body.code };
  if (!checkSecondFactor(deps.secrets, user, proof).ok) throw badCode();
  await attempt.succeeded();
  await tenant(request, async (tx) => {
    await tx
      .update(users)
      .set({ mfaEnabled: false, mfaSecret: null, mfaRecoveryCodes: [], updatedAt: new Date() })
      .where(eq(users.id, userId));
    await audit(tx, request, {
      entityType: 'user',
      entityId: userId,
      action: 'mfa_disabled',
      before: { mfaEnabled: true },
      after: { mfaEnabled: false },
    });
  });
  return { ok: true as const };
}

async function mustFindUser(tx: Tx, userId: string): Promise<UserRow> {
  const user = await findUserById(tx, userId);
  if (!user) throw new AppError(401, 'unauthorized', 'Your account no longer exists: sign in again');
  return user;
}
