/**
 * The application's `ModelPort`: `createModelPort` from @aiops/providers with credentials from the
 * `integrations` table, and each successful provider call counted on the integration that made it.
 *
 * - `simulator:*` models need no integration.
 * - `provider:model` uses the integration the agent names (`integrationId`) or the organization's default
 *   integration for that provider.
 * - Integrations are read and decrypted once per process and kept in the model-config cache until a
 *   change of the organization's integrations or settings (NOTIFY, every process): a rotated or deleted
 *   key takes effect at the next call (within 10 s if the notification is lost). The decrypted key stays
 *   in memory only, as the provider instances built with it already did.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { isAppError, type ModelPort, type ModelRequest, type ModelResult, type SecretBox } from '@aiops/core';
import type { Database, Tx } from '@aiops/db';
import {
  type AddressCategory,
  createModelPort,
  type IntegrationResolver,
  type ModelPortOptions,
  modelError,
  type ResolvedIntegration,
  type ResponseCache,
} from '@aiops/providers';
import type { FastifyBaseLogger } from 'fastify';
import { modelConfigCacheOf } from '../../services/model-config-cache.ts';
import { policyOf } from '../../services/outbound.ts';
import * as repo from './repo.ts';
import { decryptCredentials } from './service.ts';

/**
 * The decrypted settings of one integration row, as the model port takes them, with the organization's
 * outbound policy: every connection to the base URL is resolved, judged and pinned by it.
 */
export async function resolvedOf(
  tx: Tx,
  secrets: SecretBox,
  row: repo.IntegrationRow,
  privateCategories: readonly AddressCategory[] | undefined,
): Promise<ResolvedIntegration> {
  const network = await policyOf(tx, row.organizationId, privateCategories);
  let apiKey: string | undefined;
  try {
    apiKey = decryptCredentials(secrets, row).apiKey;
  } catch (e) {
    throw modelError(
      'provider_auth_failed',
      `the credentials of integration "${row.name}" do not decrypt (${(e as Error).message}): check AIOPS_ENCRYPTION_KEYS, or store the key again`,
      { integrationId: row.id },
    );
  }
  return {
    id: row.id,
    provider: row.provider,
    ...(apiKey ? { apiKey } : {}),
    ...(typeof row.config.baseUrl === 'string' ? { baseUrl: row.config.baseUrl } : {}),
    config: row.config,
    network,
  };
}

/** Per call: the integration the resolver chose (to mark it when the provider refuses its key). */
const chosen = new AsyncLocalStorage<{ integrationId?: string }>();

/** What the resolver keeps of an integration row: enough to refuse it, and its decrypted settings. */
interface CachedIntegration {
  id: string;
  name: string;
  provider: string;
  status: repo.IntegrationRow['status'];
  /** Absent when the row is refused anyway (another provider, disconnected): nothing decrypted. */
  resolved?: ResolvedIntegration;
}

const secretBoxIds = new WeakMap<SecretBox, number>();
let secretBoxCount = 0;
function secretBoxId(secrets: SecretBox): number {
  let id = secretBoxIds.get(secrets);
  if (id === undefined) {
    id = ++secretBoxCount;
    secretBoxIds.set(secrets, id);
  }
  return id;
}

/**
 * Loads the integration a call uses, in the caller's tenant (row-level security applies), through the
 * process's model-config cache: a call after the first costs no query and no decryption; a change of the
 * organization's integrations or settings drops the cache in every process (model-config-cache.ts).
 */
export function integrationResolver(
  db: Database,
  secrets: SecretBox,
  privateCategories?: readonly AddressCategory[],
): IntegrationResolver {
  const cache = modelConfigCacheOf(db);
  const scope = `${secretBoxId(secrets)}\0${privateCategories?.join(',') ?? '-'}`;
  const load = (organizationId: string, integrationId: string | undefined, provider: string) =>
    db.withTenant(organizationId, async (tx): Promise<CachedIntegration | undefined> => {
      const row = integrationId
        ? await repo.findIntegration(tx, integrationId)
        : await repo.defaultIntegration(tx, provider);
      if (!row) return undefined;
      const usable = row.provider === provider && row.status !== 'disconnected';
      return {
        id: row.id,
        name: row.name,
        provider: row.provider,
        status: row.status,
        ...(usable ? { resolved: await resolvedOf(tx, secrets, row, privateCategories) } : {}),
      };
    });
  return async (organizationId, integrationId, provider) => {
    const row = await cache.get(
      `integration\0${scope}\0${organizationId}\0${integrationId ?? ''}\0${provider}`,
      () => load(organizationId, integrationId, provider),
    );
    if (!row) return undefined;
    if (row.provider !== provider)
      throw modelError(
        'provider_invalid_request',
        `integration "${row.name}" is for ${row.provider}, not ${provider}: name a ${provider} integration or change the model`,
        { integrationId: row.id, provider },
      );
    if (row.status === 'disconnected' || !row.resolved)
      throw modelError(
        'provider_auth_failed',
        `integration "${row.name}" is disconnected: test it (POST /integrations/${row.id}/test) to reconnect`,
        { integrationId: row.id },
      );
    const call = chosen.getStore();
    if (call) call.integrationId = row.id;
    return row.resolved;
  };
}

/** Adds one call's usage to the integration that made it (atomic increments), in the caller's transaction. */
export async function addIntegrationUsage(tx: Tx, result: ModelResult): Promise<void> {
  if (!result.integrationId || result.cached) return;
  await repo.recordUsage(tx, result.integrationId, {
    inputTokens: result.usage.inputTokens,
    outputTokens: result.usage.outputTokens,
    totalTokens: result.usage.totalTokens,
    costUsd: result.costUsdDecimal ?? String(result.costUsd ?? 0),
  });
}

/** Adds one call's usage to the integration that made it, in a transaction of its own (the caller's tenant). */
export function recordIntegrationUsage(db: Database, organizationId: string, result: ModelResult) {
  if (!result.integrationId || result.cached) return Promise.resolve();
  // counters of a call that already happened: no need to wait for the WAL flush (see TenantScope)
  return db.withTenant({ organizationId, asyncCommit: true }, (tx) => addIntegrationUsage(tx, result));
}

function markFailed(db: Database, organizationId: string, id: string, message: string) {
  return db.withTenant(organizationId, (tx) =>
    repo.updateIntegration(tx, id, {
      status: 'error',
      lastError: `provider_auth_failed: ${message}`.slice(0, 2000),
    }),
  );
}

export interface AppModelPortOptions {
  db: Database;
  secrets: SecretBox;
  log?: FastifyBaseLogger;
  /** What an organization's "allow private networks" unlocks (the operator's setting). */
  privateNetworkCategories?: readonly AddressCategory[] | undefined;
  /** The organizations' price overrides. */
  priceOverrides?: ModelPortOptions['priceOverrides'];
  /** Where cached answers live (the opt-in response cache). */
  cache?: ResponseCache;
}

/** The model port of the server and its worker. */
export function createAppModelPort(options: AppModelPortOptions): ModelPort {
  const inner = createModelPort({
    resolveIntegration: integrationResolver(options.db, options.secrets, options.privateNetworkCategories),
    ...(options.priceOverrides ? { priceOverrides: options.priceOverrides } : {}),
    ...(options.cache ? { cache: options.cache } : {}),
  });
  return {
    async call(request: ModelRequest): Promise<ModelResult> {
      const context: { integrationId?: string } = {};
      let result: ModelResult;
      try {
        result = await chosen.run(context, () => inner.call(request));
      } catch (e) {
        // The provider refused the stored key: the integration shows it until a test succeeds again.
        if (context.integrationId && isAppError(e) && e.code === 'provider_auth_failed')
          await markFailed(options.db, request.organizationId, context.integrationId, e.message).catch(
            (err: unknown) => options.log?.warn({ err }, 'integration status not updated'),
          );
        throw e;
      }
      if (request.countUsage === false) return result;
      // Counting is bookkeeping: a failure to count does not fail the call the provider already answered.
      await recordIntegrationUsage(options.db, request.organizationId, result).catch((err: unknown) =>
        options.log?.warn({ err, integrationId: result.integrationId }, 'integration usage not recorded'),
      );
      return result;
    },
  };
}
