import { z } from 'zod';

/** A flag's global value: on or off for everyone, a share of organizations, and organizations always on. */
export const flagValueSchema = z
  .object({
    enabled: z.boolean().describe('off: only allow-listed organizations (and operator overrides) have it'),
    rolloutPercent: z
      .number()
      .min(0)
      .max(100)
      .default(100)
      .describe('share of organizations that have it while enabled (a stable hash of the organization id)'),
    allowOrganizations: z
      .array(z.uuid())
      .max(1000)
      .default([])
      .describe('organizations that have it whatever enabled and rolloutPercent say'),
  })
  .strict();

const flagSource = z.enum(['default', 'global', 'rollout', 'allow-list', 'operator', 'owner']);

/** GET /admin/config: global flags and settings, and every per-organization override. */
export const adminConfigSchema = z.object({
  flags: z.array(
    z.object({
      key: z.string(),
      description: z.string(),
      ownerToggle: z.boolean(),
      value: flagValueSchema,
      isSet: z.boolean().describe('false: the default (on for every organization)'),
    }),
  ),
  settings: z.array(
    z.object({
      key: z.string(),
      description: z.string(),
      perOrganization: z.boolean(),
      value: z.unknown().describe('null: the process default'),
    }),
  ),
  overrides: z.array(
    z.object({
      organizationId: z.uuid(),
      organizationName: z.string().nullable(),
      layer: z.enum(['operator', 'owner']),
      key: z.string(),
      value: z.unknown(),
    }),
  ),
});

/** PUT /admin/config: only the keys given change; null removes a value (back to the default). */
export const updateAdminConfigBodySchema = z
  .object({
    flags: z
      .record(z.string().max(100), flagValueSchema.nullable())
      .optional()
      .describe('global flag values by key'),
    settings: z
      .record(z.string().max(100), z.unknown())
      .optional()
      .describe('global settings by key, each validated by its schema; null removes'),
    organizations: z
      .array(
        z
          .object({
            organizationId: z.uuid(),
            key: z.string().max(100),
            value: z
              .unknown()
              .describe('a flag: true/false; a per-organization setting: its value; null removes'),
          })
          .strict(),
      )
      .max(200)
      .optional()
      .describe(
        "operator overrides for single organizations (they win over the global value and the owner's)",
      ),
  })
  .strict();

/** GET /organization/features: the flags as they apply to the caller's organization. */
export const organizationFeaturesSchema = z.object({
  platformAdmin: z.boolean().describe('the caller is a platform admin (sees Admin → Configuration)'),
  canManage: z.boolean().describe('the caller is an owner (may toggle the owner-toggleable flags)'),
  flags: z.array(
    z.object({
      key: z.string(),
      description: z.string(),
      enabled: z.boolean(),
      offered: z
        .boolean()
        .describe('the platform offers it to this organization (before the owner opts out)'),
      ownerToggle: z.boolean(),
      source: flagSource,
    }),
  ),
});

/** PUT /organization/features: owners turn owner-toggleable features off (false) or back on (true). */
export const updateOrganizationFeaturesBodySchema = z
  .object({ flags: z.record(z.string().max(100), z.boolean()) })
  .strict();
