import { AppError } from '@aiops/core';
import type { FastifyInstance } from 'fastify';
import { FLAGS } from './registry.ts';
import type { RuntimeConfig } from './runtime.ts';

/** The flag that gates a route pattern, if any (the first flag one of whose prefixes it starts with). */
export function flagOfRoute(url: string | undefined): string | undefined {
  if (!url) return undefined;
  return FLAGS.find((f) => f.routes.some((r) => url === r || url.startsWith(r.endsWith('/') ? r : `${r}/`)))
    ?.key;
}

/**
 * Refuses requests to a feature that is off for the caller's organization: 403 `feature_disabled`.
 * Registered after authentication, so `request.auth` is known; public routes without a caller pass.
 */
export function registerFeatureGate(app: FastifyInstance, config: RuntimeConfig): void {
  app.addHook('onRequest', async (request) => {
    const auth = request.auth;
    if (!auth) return;
    const key = flagOfRoute(request.routeOptions.url);
    if (key) assertFeature(config, key, auth.organizationId);
  });
}

/** Throws 403 `feature_disabled` when the flag is off for the organization (no config: nothing to check). */
export function assertFeature(config: RuntimeConfig | undefined, key: string, organizationId: string): void {
  if (!config) return;
  const state = config.flag(key, organizationId);
  if (state.enabled) return;
  throw new AppError(
    403,
    'feature_disabled',
    `The feature ${key.replace('feature/', '')} is turned off for this organization (flag ${key}, by ${
      state.source === 'owner'
        ? 'an owner: an owner can turn it back on in Organization → Features'
        : 'the platform operator'
    })`,
    { details: { flag: key, source: state.source } },
  );
}
