import { z } from 'zod';
import { emailSchema, ORGANIZATION_STATUSES, passwordSchema, SUBSCRIPTION_TIERS } from './auth.ts';
import { PERMISSIONS, ROLES } from './permissions.ts';

export const patchOrganizationBodySchema = z
  .object({
    name: z.string().trim().min(1).max(255).optional(),
    billingEmail: emailSchema.nullable().optional(),
    subscriptionTier: z.enum(SUBSCRIPTION_TIERS).optional().describe('needs billing:manage'),
    status: z.enum(ORGANIZATION_STATUSES).optional().describe('needs billing:manage'),
    settings: z
      .object({
        allowPrivateNetworks: z
          .boolean()
          .optional()
          .describe('tools may reach private, loopback and link-local addresses (organization:update)'),
        monthlyBudgetUsd: z
          .number()
          .min(0)
          .max(100_000_000)
          .nullable()
          .optional()
          .describe('hard stop on model spend per month; null removes it (billing:manage)'),
      })
      .strict()
      .optional(),
  })
  .refine((b) => Object.values(b).some((v) => v !== undefined), 'give at least one field to change');

export const memberSchema = z
  .object({
    userId: z.uuid(),
    email: z.string(),
    name: z.string().nullable(),
    role: z.enum(ROLES),
    permissions: z.array(z.enum(PERMISSIONS)).describe('extra grants on top of the role'),
    joinedAt: z.string(),
  })
  .meta({ id: 'Member' });
export type MemberDto = z.infer<typeof memberSchema>;

export const seatsSchema = z
  .object({
    tier: z.string(),
    planName: z.string(),
    limit: z.number().int().nullable().describe('seats of the plan; null: unlimited'),
    members: z.number().int(),
    pendingInvitations: z.number().int().describe('pending invitations reserve a seat each'),
    used: z.number().int().describe('members + pending invitations'),
  })
  .meta({ id: 'Seats' });
export type SeatsDto = z.infer<typeof seatsSchema>;

export const userIdParamsSchema = z.object({ userId: z.uuid() });
export const idParamsSchema = z.object({ id: z.uuid() });

export const patchMemberBodySchema = z
  .object({
    role: z.enum(ROLES).optional(),
    permissions: z.array(z.enum(PERMISSIONS)).max(PERMISSIONS.length).optional(),
  })
  .refine((b) => b.role !== undefined || b.permissions !== undefined, 'give role or permissions');

export const invitationSchema = z
  .object({
    id: z.uuid(),
    email: z.string(),
    role: z.enum(ROLES),
    permissions: z.array(z.enum(PERMISSIONS)),
    invitedBy: z.uuid().nullable(),
    expiresAt: z.string(),
    acceptedAt: z.string().nullable(),
    revokedAt: z.string().nullable(),
    createdAt: z.string(),
  })
  .meta({ id: 'Invitation' });
export type InvitationDto = z.infer<typeof invitationSchema>;

export const createInvitationBodySchema = z.object({
  email: emailSchema,
  role: z.enum(ROLES).default('member'),
  permissions: z.array(z.enum(PERMISSIONS)).max(PERMISSIONS.length).default([]),
  expiresInDays: z.number().int().min(1).max(30).default(7),
});

export const invitationTokenParamsSchema = z.object({ token: z.string().min(1).max(512) });
export const acceptInvitationBodySchema = z
  .object({
    name: z.string().trim().min(1).max(255).optional(),
    password: passwordSchema.optional(),
    cookie: z.boolean().optional(),
  })
  .describe('a new user gives name and password; an existing user sends their bearer token instead');
