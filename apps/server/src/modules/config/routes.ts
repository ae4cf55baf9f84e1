import {
  adminConfigSchema,
  organizationFeaturesSchema,
  updateAdminConfigBodySchema,
  updateOrganizationFeaturesBodySchema,
} from '@aiops/contracts';
import type { AppModule } from '../../module.ts';
import {
  getAdminConfig,
  getOrganizationFeatures,
  updateAdminConfig,
  updateOrganizationFeatures,
} from './service.ts';

/**
 * Feature flags and runtime settings (issue 23): `/admin/config` for platform admins (global values and
 * per-organization overrides), `/organization/features` for an organization's members (read) and owners
 * (opt out of owner-toggleable features).
 */
export const configModule: AppModule = (deps) => async (app) => {
  const config = deps.runtimeConfig;
  app.get(
    '/admin/config',
    {
      config: { permission: 'authenticated' },
      schema: {
        tags: ['admin'],
        summary: 'Feature flags, runtime settings and per-organization overrides (platform admins)',
        response: { 200: adminConfigSchema },
      },
    },
    async (request) => getAdminConfig(request, config),
  );
  app.put(
    '/admin/config',
    {
      config: { permission: 'authenticated' },
      schema: {
        tags: ['admin'],
        summary: 'Change flags and settings (platform admins); every process applies it within a second',
        body: updateAdminConfigBodySchema,
        response: { 200: adminConfigSchema },
      },
    },
    async (request) => updateAdminConfig(request, config, request.body),
  );
  app.get(
    '/organization/features',
    {
      config: { permission: 'authenticated' },
      schema: {
        tags: ['organization'],
        summary: 'The feature flags as they apply to this organization',
        response: { 200: organizationFeaturesSchema },
      },
    },
    async (request) => getOrganizationFeatures(request, config),
  );
  app.put(
    '/organization/features',
    {
      config: { permission: 'organization:update' },
      schema: {
        tags: ['organization'],
        summary:
          'Turn owner-toggleable features off (false) or back on (true) for this organization (owners)',
        body: updateOrganizationFeaturesBodySchema,
        response: { 200: organizationFeaturesSchema },
      },
    },
    async (request) => updateOrganizationFeatures(request, config, request.body),
  );
};
