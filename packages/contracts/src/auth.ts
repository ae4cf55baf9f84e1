import { z } from 'zod';
import { PERMISSIONS, ROLES } from './permissions.ts';

/** An email address, trimmed and lower-cased. */
export const emailSchema = z.string().trim().toLowerCase().max(255).email('must be an email address');
/** Length bounds only; the strength rule is checked by the server, which says what to fix. */
export const passwordSchema = z.string().min(1, 'is required').max(256, 'must be at most 256 characters');
const isoTime = z.string().describe('ISO 8601 UTC time');

export const SUBSCRIPTION_TIERS = ['starter', 'professional', 'business', 'enterprise'] as const;
export const ORGANIZATION_STATUSES = ['active', 'suspended', 'cancelled'] as const;

export const userSchema = z
  .object({
    id: z.uuid(),
    email: z.string(),
    name: z.string().nullable(),
    emailVerified: z.boolean(),
    mfaEnabled: z.boolean(),
    authProvider: z.enum(['email', 'google', 'microsoft', 'github']),
    createdAt: isoTime,
  })
  .meta({ id: 'User' });
export type UserDto = z.infer<typeof userSchema>;

export const organizationSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    slug: z.string(),
    subscriptionTier: z.enum(SUBSCRIPTION_TIERS),
    status: z.enum(ORGANIZATION_STATUSES),
    billingEmail: z.string().nullable(),
    monthlyExecutionQuota: z.number().int(),
    monthlyExecutionsUsed: z.number().int(),
    monthlyCost: z.number().describe('USD spent on models this month'),
    monthlyResetDate: z.string().nullable(),
    settings: z.object({
      allowPrivateNetworks: z.boolean(),
      monthlyBudgetUsd: z.number().nullable(),
    }),
    createdAt: isoTime,
    updatedAt: isoTime,
  })
  .meta({ id: 'Organization' });
export type OrganizationDto = z.infer<typeof organizationSchema>;

const tokens = {
  token: z.string().describe('access token (JWT): send as Authorization: Bearer <token>'),
  refreshToken: z.string().describe('single-use; POST /auth/refresh exchanges it for a new pair'),
  tokenType: z.literal('Bearer'),
  expiresIn: z.number().int().describe('seconds until the access token expires'),
};
export const tokenPairSchema = z.object(tokens).meta({ id: 'TokenPair' });
export type TokenPair = z.infer<typeof tokenPairSchema>;

export const sessionResponseSchema = z
  .object({ ...tokens, user: userSchema, organization: organizationSchema })
  .meta({ id: 'Session' });
export type SessionResponse = z.infer<typeof sessionResponseSchema>;

const cookie = z
  .boolean()
  .optional()
  .describe('also set HTTP-only, SameSite=Strict session cookies (for the studio)');

export const signupBodySchema = z.object({
  email: emailSchema,
  password: passwordSchema,
  name: z.string().trim().min(1).max(255),
  organizationName: z.string().trim().min(1).max(255),
  cookie,
});

export const loginBodySchema = z.object({
  email: emailSchema,
  password: passwordSchema,
  totp: z
    .string()
    .regex(/^\d{6}$/, 'must be the 6-digit code of your authenticator app')
    .optional(),
  recoveryCode: z.string().trim().min(8).max(64).optional(),
  organizationId: z.uuid().optional().describe('the organization to sign in to (default: the first joined)'),
  cookie,
});

export const refreshBodySchema = z.object({
  refreshToken: z.string().min(1).max(512).optional().describe('omit when the refresh cookie is sent'),
});

export const switchOrgBodySchema = z.object({ organizationId: z.uuid(), cookie });

export const changePasswordBodySchema = z.object({
  currentPassword: passwordSchema,
  newPassword: passwordSchema,
});

export const tokenBodySchema = z.object({ token: z.string().min(1).max(512) });
export const passwordResetRequestBodySchema = z.object({ email: emailSchema });
export const passwordResetConfirmBodySchema = z.object({
  token: z.string().min(1).max(512),
  password: passwordSchema,
});

export const acceptedSchema = z.object({ status: z.literal('accepted'), message: z.string() });
export const okSchema = z.object({ ok: z.literal(true) });

export const meResponseSchema = z
  .object({
    user: userSchema.nullable(),
    apiKey: z.object({ id: z.uuid(), name: z.string(), prefix: z.string() }).nullable(),
    organization: organizationSchema,
    role: z.enum(ROLES).nullable(),
    permissions: z.array(z.enum(PERMISSIONS)),
    organizations: z.array(z.object({ id: z.uuid(), name: z.string(), role: z.enum(ROLES) })),
  })
  .meta({ id: 'Me' });

/**
 * `GET /auth/session`: the studio's one probe on load. Answers 200 either way, so a signed-out visitor
 * causes no failed request; with an expired access cookie and a valid refresh cookie it refreshes first.
 */
export const authSessionSchema = z
  .discriminatedUnion('authenticated', [
    z.object({ authenticated: z.literal(false) }),
    meResponseSchema.extend({ authenticated: z.literal(true) }),
  ])
  .meta({ id: 'AuthSession' });

export const mfaEnrolResponseSchema = z.object({
  otpauthUri: z.string().describe('otpauth:// URI for an authenticator app'),
  qrCodeDataUrl: z.string().describe('the same URI as a PNG QR code data URL'),
});
export const mfaCodeBodySchema = z.object({
  code: z.string().regex(/^\d{6}$/, 'must be the 6-digit code of your authenticator app'),
});
export const mfaActivateResponseSchema = z.object({
  recoveryCodes: z.array(z.string()).describe('shown once; each signs in once in place of a code'),
});
export const mfaDisableBodySchema = z.object({ password: passwordSchema, code: z.string().min(6).max(64) });

export const OAUTH_PROVIDERS = ['google', 'microsoft', 'github'] as const;
export const oauthProviderParamsSchema = z.object({ provider: z.enum(OAUTH_PROVIDERS) });
export const oauthStartQuerySchema = z.object({
  redirect: z
    .string()
    .regex(/^\/(?!\/)[^\s\\]*$/, 'must be a path on this server, starting with a single /')
    .max(500)
    .optional()
    .describe('where the browser goes after sign-in, with session cookies set; omit for a JSON answer'),
});
export const oauthCallbackQuerySchema = z.object({
  code: z.string().min(1).max(2048).optional(),
  state: z.string().min(1).max(512).optional(),
  error: z.string().max(200).optional(),
  error_description: z.string().max(1000).optional(),
});
