import type {
  adminConfigSchema,
  organizationFeaturesSchema,
  updateAdminConfigBodySchema,
  updateOrganizationFeaturesBodySchema,
} from '@aiops/contracts';
import { AppError, validationFailed } from '@aiops/core';
import {
  type Database,
  organizationConfig,
  organizations,
  platformAuditLogs,
  platformConfig,
  type Tx,
} from '@aiops/db';
import { and, eq, inArray } from 'drizzle-orm';
import type { FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { authOf, userOf } from '../../http/auth.ts';
import { audit } from '../../http/tenant.ts';
import { isPlatformAdmin, requirePlatformAdmin } from './admins.ts';
import { FLAGS, flagDefinition, flagValueSchema, SETTINGS, settingDefinition } from './registry.ts';
import type { RuntimeConfig } from './runtime.ts';

type AdminConfig = z.infer<typeof adminConfigSchema>;
type AdminConfigBody = z.infer<typeof updateAdminConfigBodySchema>;
type OrgFeatures = z.infer<typeof organizationFeaturesSchema>;
type OrgFeaturesBody = z.infer<typeof updateOrganizationFeaturesBodySchema>;

interface Issue {
  path: string;
  message: string;
}

const issuesOf = (path: string, e: z.ZodError): Issue[] =>
  e.issues.map((i) => ({
    path: [path, ...i.path.map(String)].join('.'),
    message: i.message,
  }));

export async function getAdminConfig(request: FastifyRequest, config: RuntimeConfig): Promise<AdminConfig> {
  await requirePlatformAdmin(request);
  return adminView(request.server.db, config);
}

async function adminView(db: Database, config: RuntimeConfig): Promise<AdminConfig> {
  const overrides = config.overrides();
  const ids = [...new Set(overrides.map((o) => o.organizationId))];
  const names = ids.length
    ? await db.system((tx) =>
        tx
          .select({ id: organizations.id, name: organizations.name })
          .from(organizations)
          .where(inArray(organizations.id, ids)),
      )
    : [];
  const nameOf = new Map(names.map((n) => [n.id, n.name]));
  return {
    flags: FLAGS.map((f) => ({
      key: f.key,
      description: f.description,
      ownerToggle: f.ownerToggle,
      value: config.globalFlag(f.key),
      isSet: config.hasGlobal(f.key),
    })),
    settings: SETTINGS.map((s) => ({
      key: s.key,
      description: s.description,
      perOrganization: s.perOrganization,
      value: config.setting(s.key) ?? null,
    })),
    overrides: overrides
      .map((o) => ({ ...o, organizationName: nameOf.get(o.organizationId) ?? null }))
      .sort((a, b) => `${a.organizationId}${a.key}`.localeCompare(`${b.organizationId}${b.key}`)),
  };
}

/** Validates every entry against its key's schema before anything is written: all or nothing. */
function validateAdminBody(body: AdminConfigBody): {
  flags: [string, unknown][];
  settings: [string, unknown][];
  orgs: { organizationId: string; key: string; value: unknown }[];
} {
  const issues: Issue[] = [];
  const flags: [string, unknown][] = [];
  for (const [key, value] of Object.entries(body.flags ?? {})) {
    if (!flagDefinition(key)) {
      issues.push({
        path: `flags.${key}`,
        message: `Unknown flag; known: ${FLAGS.map((f) => f.key).join(', ')}`,
      });
    } else flags.push([key, value]);
  }
  const settings: [string, unknown][] = [];
  for (const [key, value] of Object.entries(body.settings ?? {})) {
    const def = settingDefinition(key);
    if (!def) {
      issues.push({
        path: `settings.${key}`,
        message: `Unknown setting; known: ${SETTINGS.map((s) => s.key).join(', ')}`,
      });
      continue;
    }
    if (value === null) {
      settings.push([key, null]);
      continue;
    }
    const parsed = def.schema.safeParse(value);
    if (parsed.success) settings.push([key, parsed.data]);
    else issues.push(...issuesOf(`settings.${key}`, parsed.error));
  }
  const orgs: { organizationId: string; key: string; value: unknown }[] = [];
  (body.organizations ?? []).forEach((o, i) => {
    const path = `organizations.${i}.value`;
    if (o.value === null || o.value === undefined) {
      orgs.push({ ...o, value: null });
      return;
    }
    if (flagDefinition(o.key)) {
      if (typeof o.value === 'boolean') orgs.push(o);
      else issues.push({ path, message: `A flag override is true or false (${o.key})` });
      return;
    }
    const def = settingDefinition(o.key);
    if (!def?.perOrganization) {
      issues.push({
        path: `organizations.${i}.key`,
        message: `${o.key} cannot be set per organization; per-organization keys: ${[
          ...FLAGS.map((f) => f.key),
          ...SETTINGS.filter((s) => s.perOrganization).map((s) => s.key),
        ].join(', ')}`,
      });
      return;
    }
    const parsed = def.schema.safeParse(o.value);
    if (parsed.success) orgs.push({ ...o, value: parsed.data });
    else issues.push(...issuesOf(path, parsed.error));
  });
  if (issues.length > 0) {
    throw validationFailed(
      `Some configuration values are not valid: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
      issues,
    );
  }
  return { flags, settings, orgs };
}

async function setGlobal(tx: Tx, request: FastifyRequest, userId: string, key: string, value: unknown) {
  const [before] = await tx.select().from(platformConfig).where(eq(platformConfig.key, key));
  if (value === null) {
    if (!before) return;
    await tx.delete(platformConfig).where(eq(platformConfig.key, key));
  } else {
    await tx
      .insert(platformConfig)
      .values({ key, value, updatedBy: userId })
      .onConflictDoUpdate({
        target: platformConfig.key,
        set: { value, updatedBy: userId, updatedAt: new Date() },
      });
  }
  await tx.insert(platformAuditLogs).values({
    userId,
    action: value === null ? 'config.unset' : 'config.set',
    key,
    before: before?.value ?? null,
    after: value,
    requestId: String(request.id).slice(0, 64),
  });
}

async function setOverride(
  tx: Tx,
  request: FastifyRequest,
  userId: string,
  layer: 'operator' | 'owner',
  o: { organizationId: string; key: string; value: unknown },
) {
  const where = and(
    eq(organizationConfig.organizationId, o.organizationId),
    eq(organizationConfig.layer, layer),
    eq(organizationConfig.key, o.key),
  );
  const [before] = await tx.select().from(organizationConfig).where(where);
  if (o.value === null) {
    if (!before) return;
    await tx.delete(organizationConfig).where(where);
  } else {
    await tx
      .insert(organizationConfig)
      .values({ organizationId: o.organizationId, layer, key: o.key, value: o.value, updatedBy: userId })
      .onConflictDoUpdate({
        target: [organizationConfig.organizationId, organizationConfig.layer, organizationConfig.key],
        set: { value: o.value, updatedBy: userId, updatedAt: new Date() },
      });
  }
  await audit(tx, request, {
    actor: { organizationId: o.organizationId, userId, apiKeyId: null },
    entityType: 'organization_config',
    entityId: o.key.slice(0, 64),
    action: o.value === null ? 'config.override_removed' : 'config.override_set',
    before: before ? { value: before.value } : null,
    after: o.value === null ? null : { value: o.value },
    metadata: { layer },
  });
}

/** PUT /admin/config: validates everything, writes it in one transaction with its audit rows, reloads. */
export async function updateAdminConfig(
  request: FastifyRequest,
  config: RuntimeConfig,
  body: AdminConfigBody,
): Promise<AdminConfig> {
  const { userId } = await requirePlatformAdmin(request);
  const valid = validateAdminBody(body);
  const db = request.server.db;
  const orgIds = [...new Set(valid.orgs.map((o) => o.organizationId))];
  await db.system(async (tx) => {
    if (orgIds.length > 0) {
      const found = await tx
        .select({ id: organizations.id })
        .from(organizations)
        .where(inArray(organizations.id, orgIds));
      const missing = orgIds.filter((id) => !found.some((f) => f.id === id));
      if (missing.length > 0) {
        throw new AppError(
          404,
          'organization_not_found',
          `No organization has the id ${missing.join(', ')}`,
          {
            details: { organizationIds: missing },
          },
        );
      }
    }
    for (const [key, value] of valid.flags) {
      await setGlobal(tx, request, userId, key, value === null ? null : flagValueSchema.parse(value));
    }
    for (const [key, value] of valid.settings) await setGlobal(tx, request, userId, key, value);
    for (const o of valid.orgs) await setOverride(tx, request, userId, 'operator', o);
  });
  // Global changes are audited in platform_audit_logs.
  if (valid.flags.length + valid.settings.length > 0) request.auditCount += 1;
  await config.reload();
  return adminView(db, config);
}

export async function getOrganizationFeatures(
  request: FastifyRequest,
  config: RuntimeConfig,
): Promise<OrgFeatures> {
  const auth = authOf(request);
  const admin = auth.userId
    ? await isPlatformAdmin(
        request.server.db,
        auth.userId,
        request.server.jobDeps.settings.platformAdminEmails,
      )
    : false;
  return {
    platformAdmin: admin,
    canManage: auth.role === 'owner',
    flags: config.flags(auth.organizationId).map((f) => ({
      key: f.key,
      description: f.description,
      enabled: f.enabled,
      offered: f.offered,
      ownerToggle: f.ownerToggle,
      source: f.source,
    })),
  };
}

/** PUT /organization/features: an owner opts the organization out of (false) or back into (true) features. */
export async function updateOrganizationFeatures(
  request: FastifyRequest,
  config: RuntimeConfig,
  body: OrgFeaturesBody,
): Promise<OrgFeatures> {
  const auth = userOf(request);
  if (auth.role !== 'owner') {
    throw new AppError(
      403,
      'owner_required',
      'Only an owner of the organization may turn its features on or off',
    );
  }
  const issues: Issue[] = [];
  for (const key of Object.keys(body.flags)) {
    const def = flagDefinition(key);
    if (!def)
      issues.push({
        path: `flags.${key}`,
        message: `Unknown flag; known: ${FLAGS.map((f) => f.key).join(', ')}`,
      });
    else if (!def.ownerToggle) {
      issues.push({
        path: `flags.${key}`,
        message: 'Only the platform operator can turn this feature on or off; owners may toggle: '.concat(
          FLAGS.filter((f) => f.ownerToggle)
            .map((f) => f.key)
            .join(', '),
        ),
      });
    }
  }
  if (issues.length > 0)
    throw validationFailed(
      `Some flags cannot be changed by an owner: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
      issues,
    );
  await request.server.db.withTenant(
    { organizationId: auth.organizationId, userId: auth.userId },
    async (tx) => {
      for (const [key, on] of Object.entries(body.flags)) {
        // On is the absence of an opt-out: what the platform offers applies again.
        await setOverride(tx, request, auth.userId, 'owner', {
          organizationId: auth.organizationId,
          key,
          value: on ? null : false,
        });
      }
    },
  );
  await config.reload();
  return getOrganizationFeatures(request, config);
}
