import type { CreateIntegrationBody, IntegrationDto, UpdateIntegrationBody } from '@aiops/contracts';
import { badRequest, conflict, notFound, type SecretBox } from '@aiops/core';
import type { Tx } from '@aiops/db';
import { DEFAULT_BASE_URLS, isProviderId, type OutboundPolicy, urlRefusal } from '@aiops/providers';
import type { FastifyRequest } from 'fastify';
import { authOf } from '../../http/auth.ts';
import { audit, tenant } from '../../http/tenant.ts';
import { isoOrNull } from '../../services/dto.ts';
import { requestPolicy } from '../../services/outbound.ts';
import * as repo from './repo.ts';

/** Providers that answer without a key (local servers): credentials are optional for them. */
const KEYLESS = new Set(['ollama', 'openai-compatible']);

/** The associated data that binds an integration's ciphertext to its row. */
export const credentialsAad = (id: string) => `integration:${id}`;

export interface StoredCredentials {
  apiKey?: string;
}

/** `sk-proj-abcdef…wxyz` → `sk-…wxyz`: a short known-looking prefix and the last 4 characters. */
export function credentialHint(apiKey: string): string {
  const prefix = /^[A-Za-z]{1,5}[-_]/.exec(apiKey)?.[0] ?? '';
  if (apiKey.length < 12) return `${prefix}…`;
  return `${prefix}…${apiKey.slice(-4)}`;
}

export function encryptCredentials(secrets: SecretBox, id: string, credentials: StoredCredentials) {
  return {
    credentialsEncrypted: secrets.encrypt(JSON.stringify(credentials), credentialsAad(id)),
    credentialsKeyId: secrets.currentKeyId,
    credentialHint: credentials.apiKey ? credentialHint(credentials.apiKey) : null,
  };
}

export function decryptCredentials(secrets: SecretBox, row: repo.IntegrationRow): StoredCredentials {
  if (!row.credentialsEncrypted) return {};
  return JSON.parse(secrets.decrypt(row.credentialsEncrypted, credentialsAad(row.id))) as StoredCredentials;
}

/** An integration as the API shows it: never its credentials, only a hint. */
export function toIntegrationDto(r: repo.IntegrationRow): IntegrationDto {
  return {
    id: r.id,
    name: r.name,
    category: r.category,
    provider: r.provider,
    config: r.config,
    hasCredentials: r.credentialsEncrypted !== null,
    credentialHint: r.credentialHint,
    credentialsKeyId: r.credentialsKeyId,
    isDefault: r.isDefault,
    status: r.status,
    lastError: r.lastError,
    lastTestedAt: isoOrNull(r.lastTestedAt),
    connectedAt: isoOrNull(r.connectedAt),
    usage: {
      requests: Number(r.totalRequests),
      inputTokens: Number(r.inputTokens),
      outputTokens: Number(r.outputTokens),
      totalTokens: Number(r.totalTokens),
      costUsd: normalizeDecimal(r.totalCost),
      lastUsedAt: isoOrNull(r.lastUsedAt),
    },
    createdBy: r.createdBy,
    createdAt: r.createdAt.toISOString(),
    updatedAt: r.updatedAt.toISOString(),
  };
}

/** `0.000123000000` → `0.000123`; `0E-12`/`0.000000000000` → `0`. */
export function normalizeDecimal(v: string): string {
  if (!v.includes('.')) return v;
  const t = v.replace(/0+$/, '').replace(/\.$/, '');
  return t === '' || t === '-0' ? '0' : t;
}

/** The base URL a call goes to: the configured one, else the provider's. */
export function effectiveBaseUrl(provider: string, config: Record<string, unknown>): string | undefined {
  if (typeof config.baseUrl === 'string') return config.baseUrl;
  return isProviderId(provider) ? DEFAULT_BASE_URLS[provider] : undefined;
}

/**
 * Why a base URL may not be used, or undefined. Like the `http_request` tool, model calls reach only what the
 * organization's outbound policy allows: the host is resolved and every address judged (a name that does not
 * resolve now is accepted; every connection is checked again).
 */
export async function baseUrlRefusal(
  url: string | undefined,
  policy: OutboundPolicy,
): Promise<string | undefined> {
  return url ? urlRefusal(url, policy) : undefined;
}

async function checkConfig(
  tx: Tx,
  request: FastifyRequest,
  provider: string,
  config: Record<string, unknown>,
): Promise<void> {
  if (provider === 'openai-compatible' && typeof config.baseUrl !== 'string') {
    throw badRequest(
      'config.baseUrl is required for openai-compatible: the server root, e.g. http://host:8000/v1',
      {
        issues: [{ path: 'body.config.baseUrl', message: 'required for openai-compatible' }],
      },
    );
  }
  const why = await baseUrlRefusal(effectiveBaseUrl(provider, config), await requestPolicy(tx, request));
  if (why) {
    throw badRequest(`config.baseUrl: ${why}`, {
      issues: [{ path: 'body.config.baseUrl', message: why }],
    });
  }
}

/** Unique violations as 409s: the name is taken, or another default of the provider was set meanwhile. */
function uniqueName(e: unknown, name: string): never {
  const pg = ((e as { cause?: unknown }).cause ?? e) as { code?: string; constraint?: string };
  if (pg.code === '23505' && pg.constraint === 'integrations_one_default_per_provider')
    throw conflict('Another integration of this provider became its default at the same time: try again');
  if (pg.code === '23505')
    throw conflict(`An integration named "${name}" exists: choose another name`, { name });
  throw e;
}

export async function createIntegration(
  request: FastifyRequest,
  secrets: SecretBox,
  body: CreateIntegrationBody,
) {
  const auth = authOf(request);
  if (!body.credentials && !KEYLESS.has(body.provider)) {
    throw badRequest(`credentials.apiKey is required for ${body.provider}`, {
      issues: [{ path: 'body.credentials.apiKey', message: `required for ${body.provider}` }],
    });
  }
  const id = crypto.randomUUID();
  return tenant(request, async (tx) => {
    await checkConfig(tx, request, body.provider, body.config);
    const first = (await repo.countForProvider(tx, body.provider)) === 0;
    const isDefault = body.isDefault ?? first;
    if (isDefault && !first) await repo.clearOtherDefaults(tx, body.provider, id);
    const row = await repo
      .insertIntegration(tx, {
        id,
        organizationId: auth.organizationId,
        name: body.name,
        category: body.category,
        provider: body.provider,
        config: body.config,
        ...(body.credentials ? encryptCredentials(secrets, id, body.credentials) : {}),
        isDefault,
        status: 'pending',
        createdBy: auth.userId ?? null,
      })
      .catch((e: unknown) => uniqueName(e, body.name));
    await audit(tx, request, {
      entityType: 'integration',
      entityId: id,
      action: 'created',
      after: toIntegrationDto(row),
    });
    return toIntegrationDto(row);
  });
}

export function listIntegrations(
  request: FastifyRequest,
  query: {
    limit: number;
    cursor?: string | undefined;
    provider?: string | undefined;
    status?: string | undefined;
  },
) {
  return tenant(request, async (tx) => {
    const p = await repo.listIntegrations(tx, query);
    return { data: p.data.map((r) => toIntegrationDto(r.row)), nextCursor: p.nextCursor };
  });
}

export async function findOr404(tx: Tx, id: string): Promise<repo.IntegrationRow> {
  const row = await repo.findIntegration(tx, id);
  if (!row) throw notFound('integration', id);
  return row;
}

export function getIntegration(request: FastifyRequest, id: string) {
  return tenant(request, async (tx) => toIntegrationDto(await findOr404(tx, id)));
}

/** Changes name, config, default or status; `credentials` rotates the key (the status goes back to pending). */
export function updateIntegration(
  request: FastifyRequest,
  secrets: SecretBox,
  id: string,
  body: UpdateIntegrationBody,
) {
  return tenant(request, async (tx) => {
    const before = await findOr404(tx, id);
    const values: Parameters<typeof repo.updateIntegration>[2] = {};
    if (body.name !== undefined) values.name = body.name;
    if (body.config !== undefined) {
      await checkConfig(tx, request, before.provider, body.config);
      values.config = body.config;
    }
    const rotated = body.credentials !== undefined;
    if (body.credentials === null) {
      if (!KEYLESS.has(before.provider))
        throw badRequest(`${before.provider} needs an API key: send new credentials instead of null`, {
          issues: [{ path: 'body.credentials', message: `required for ${before.provider}` }],
        });
      Object.assign(values, { credentialsEncrypted: null, credentialsKeyId: null, credentialHint: null });
    } else if (body.credentials) {
      Object.assign(values, encryptCredentials(secrets, id, body.credentials));
    }
    if (rotated || body.config !== undefined) Object.assign(values, { status: 'pending', lastError: null });
    if (body.status === 'disconnected') values.status = 'disconnected';
    if (body.isDefault) {
      await repo.clearOtherDefaults(tx, before.provider, id);
      values.isDefault = true;
    }
    const row =
      (await repo.updateIntegration(tx, id, values).catch((e: unknown) => uniqueName(e, body.name ?? ''))) ??
      before;
    await audit(tx, request, {
      entityType: 'integration',
      entityId: id,
      action: 'updated',
      before: toIntegrationDto(before),
      after: toIntegrationDto(row),
      metadata: { credentialRotated: rotated },
    });
    return toIntegrationDto(row);
  });
}

/** Deletes an integration; agents naming it fail their next call with a clear error. */
export function deleteIntegration(request: FastifyRequest, id: string) {
  return tenant(request, async (tx) => {
    const before = await findOr404(tx, id);
    await repo.deleteIntegration(tx, id);
    if (before.isDefault) await repo.promoteDefault(tx, before.provider);
    await audit(tx, request, {
      entityType: 'integration',
      entityId: id,
      action: 'deleted',
      before: toIntegrationDto(before),
    });
    return toIntegrationDto(before);
  });
}

export function integrationUsage(request: FastifyRequest, id: string) {
  return tenant(request, async (tx) => {
    const row = await findOr404(tx, id);
    const dto = toIntegrationDto(row);
    const byModel = await repo.usageByModel(tx, row.provider);
    return {
      integrationId: row.id,
      provider: row.provider,
      totals: dto.usage,
      byModel: byModel.map((m) => ({ ...m, costUsd: normalizeDecimal(m.costUsd) })),
    };
  });
}
