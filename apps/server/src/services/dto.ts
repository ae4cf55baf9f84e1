import type { OrganizationDto, UserDto } from '@aiops/contracts';
import type { organizations, users } from '@aiops/db';

type UserRow = Omit<typeof users.$inferSelect, 'passwordHash' | 'mfaSecret' | 'mfaRecoveryCodes'>;
type OrganizationRow = typeof organizations.$inferSelect;

const iso = (d: Date) => d.toISOString();
export const isoOrNull = (d: Date | null | undefined) => (d ? d.toISOString() : null);

/** A user as the API shows it: never the password hash, MFA secret or recovery codes. */
export function toUserDto(u: UserRow): UserDto {
  return {
    id: u.id,
    email: u.email,
    name: u.fullName,
    emailVerified: u.emailVerified,
    mfaEnabled: u.mfaEnabled,
    authProvider: u.authProvider,
    createdAt: iso(u.createdAt),
  };
}

export function toOrganizationDto(o: OrganizationRow): OrganizationDto {
  return {
    id: o.id,
    name: o.name,
    slug: o.slug,
    subscriptionTier: o.subscriptionTier,
    status: o.status,
    billingEmail: o.billingEmail,
    monthlyExecutionQuota: o.monthlyExecutionQuota,
    monthlyExecutionsUsed: o.monthlyExecutionsUsed,
    monthlyCost: Number(o.monthlyCostUsed),
    monthlyResetDate: o.monthlyResetDate ?? null,
    settings: {
      allowPrivateNetworks: o.settings.allowPrivateNetworks === true,
      monthlyBudgetUsd: typeof o.settings.monthlyBudgetUsd === 'number' ? o.settings.monthlyBudgetUsd : null,
    },
    createdAt: iso(o.createdAt),
    updatedAt: iso(o.updatedAt),
  };
}

/** True when a database error is a unique-constraint violation (PostgreSQL 23505), on either driver. */
export function isUniqueViolation(e: unknown): boolean {
  for (let cur: unknown = e, i = 0; cur && i < 5; cur = (cur as { cause?: unknown }).cause, i++) {
    if ((cur as { code?: unknown }).code === '23505') return true;
  }
  return false;
}
