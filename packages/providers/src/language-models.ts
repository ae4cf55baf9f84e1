/**
 * Model ids and credentials → AI SDK language models. One provider package of the AI SDK per provider; no
 * wire format is written here.
 *
 * Glossary:
 * - provider id: the part of a model id before the first `:` (`openai`, `anthropic`, `google`, `xai`,
 *   `cohere`, `perplexity`, `ollama`, `openai-compatible`; `simulator` is handled elsewhere).
 * - integration: an organization's stored credentials for a provider (the `integrations` table); the port
 *   receives them through an injected `IntegrationResolver`, already decrypted.
 */
import { createHash } from 'node:crypto';
import type { LanguageModel } from 'ai';
import { modelError } from './errors.ts';
import { type OutboundPolicy, PUBLIC_ONLY } from './net/address.ts';
import { guardedFetch } from './net/fetch.ts';

export const PROVIDERS = [
  'openai',
  'anthropic',
  'google',
  'xai',
  'cohere',
  'perplexity',
  'ollama',
  'openai-compatible',
] as const;
export type ProviderId = (typeof PROVIDERS)[number];

/** Where each provider answers when the integration names no base URL. */
export const DEFAULT_BASE_URLS: Record<ProviderId, string | undefined> = {
  openai: 'https://api.openai.com/v1',
  anthropic: 'https://api.anthropic.com/v1',
  google: 'https://generativelanguage.googleapis.com/v1beta',
  xai: 'https://api.x.ai/v1',
  cohere: 'https://api.cohere.com/v2',
  perplexity: 'https://api.perplexity.ai',
  ollama: 'http://127.0.0.1:11434/v1',
  'openai-compatible': undefined,
};

/** Providers whose API has no function calling (the AI SDK would drop the tools silently). */
export const TOOLLESS_PROVIDERS: ReadonlySet<ProviderId> = new Set(['perplexity']);

/** Providers that answer without a key (local servers). */
const KEYLESS: ReadonlySet<ProviderId> = new Set(['ollama', 'openai-compatible']);

/** An integration's decrypted settings, as the resolver returns them. */
export interface ResolvedIntegration {
  /** The integration's id, reported back in `ModelResult.integrationId` (usage counters). */
  id?: string;
  provider: string;
  apiKey?: string;
  baseUrl?: string;
  /**
   * Provider-specific settings: `headers` (extra HTTP headers), `organization` and `project` (OpenAI),
   * `structuredOutputs` (OpenAI-compatible servers that accept `response_format: json_schema`; default true
   * for Ollama, false otherwise).
   */
  config: Record<string, unknown>;
  /**
   * The organization's outbound policy (the server's, never the integration's config): every connection to
   * the base URL is resolved, judged and pinned by it. Absent: public addresses only.
   */
  network?: OutboundPolicy;
}

/** The fetch a provider package gets: one that obeys the outbound policy, unless a benchmark passes its own. */
export function providerFetch(integration: ResolvedIntegration, fetchImpl?: typeof fetch): typeof fetch {
  return fetchImpl ?? guardedFetch(integration.network ?? PUBLIC_ONLY);
}

/**
 * Looks up the credentials for a call. `integrationId` is the one the agent names, or undefined to use the
 * organization's default integration for `provider`. Returns undefined when there is none.
 */
export type IntegrationResolver = (
  organizationId: string,
  integrationId: string | undefined,
  provider: string,
) => Promise<ResolvedIntegration | undefined> | ResolvedIntegration | undefined;

export interface ParsedModelId {
  provider: string;
  modelName: string;
}

export function parseModelId(model: string): ParsedModelId {
  const i = model.indexOf(':');
  if (i <= 0 || i === model.length - 1)
    throw modelError(
      'model_not_found',
      `"${model}" is not a model id: write provider:model, e.g. openai:gpt-4o-mini or simulator:echo`,
      { model },
    );
  return { provider: model.slice(0, i), modelName: model.slice(i + 1) };
}

export function isProviderId(p: string): p is ProviderId {
  return (PROVIDERS as readonly string[]).includes(p);
}

type ModelFactory = (modelName: string) => LanguageModel;

function stringRecord(v: unknown): Record<string, string> | undefined {
  if (!v || typeof v !== 'object') return undefined;
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v)) if (typeof val === 'string') out[k] = val;
  return out;
}

/**
 * Provider packages are loaded on first use: a process that only runs the simulator (tests, the demo)
 * does not pay for loading seven of them.
 */
async function factoryFor(
  provider: ProviderId,
  integration: ResolvedIntegration,
  fetchImpl?: typeof fetch,
): Promise<ModelFactory> {
  const apiKey = integration.apiKey;
  const baseURL = integration.baseUrl ?? DEFAULT_BASE_URLS[provider];
  const headers = stringRecord(integration.config.headers);
  const common = { apiKey, baseURL, headers, fetch: providerFetch(integration, fetchImpl) };
  switch (provider) {
    case 'openai': {
      const { createOpenAI } = await import('@ai-sdk/openai');
      const p = createOpenAI({
        ...common,
        organization:
          typeof integration.config.organization === 'string' ? integration.config.organization : undefined,
        project: typeof integration.config.project === 'string' ? integration.config.project : undefined,
      });
      // Chat Completions: the API every OpenAI-style server speaks (the Responses API is not used yet).
      return (m) => p.chat(m);
    }
    case 'anthropic': {
      const { createAnthropic } = await import('@ai-sdk/anthropic');
      const p = createAnthropic(common);
      return (m) => p(m);
    }
    case 'google': {
      const { createGoogleGenerativeAI } = await import('@ai-sdk/google');
      const p = createGoogleGenerativeAI(common);
      return (m) => p(m);
    }
    case 'xai': {
      const { createXai } = await import('@ai-sdk/xai');
      const p = createXai(common);
      return (m) => p.chat(m);
    }
    case 'cohere': {
      const { createCohere } = await import('@ai-sdk/cohere');
      const p = createCohere(common);
      return (m) => p(m);
    }
    case 'perplexity': {
      const { createPerplexity } = await import('@ai-sdk/perplexity');
      const p = createPerplexity(common);
      return (m) => p(m);
    }
    case 'ollama':
    case 'openai-compatible': {
      if (!baseURL)
        throw modelError(
          'provider_invalid_request',
          'an openai-compatible integration needs a base URL (e.g. http://host:8000/v1)',
          { provider },
        );
      const structured = integration.config.structuredOutputs;
      const { createOpenAICompatible } = await import('@ai-sdk/openai-compatible');
      const p = createOpenAICompatible({
        name: provider,
        ...common,
        baseURL,
        includeUsage: true,
        supportsStructuredOutputs: typeof structured === 'boolean' ? structured : provider === 'ollama',
      });
      return (m) => p.chatModel(m);
    }
  }
}

export interface LanguageModelSourceOptions {
  resolveIntegration: IntegrationResolver;
  /** Replaces the policy-checked fetch (benchmarks only; see `providerFetch`). */
  fetch?: typeof fetch;
}

/**
 * Resolves credentials and builds the AI SDK model for a call. Provider instances are kept per integration
 * and credentials (a fingerprint, never the key itself, is the cache key), so a rotated key takes effect at
 * once and an unchanged one costs no rebuild. The fingerprint is kept per resolved object: a resolver
 * returns a new object when an integration's settings change, never the same one modified.
 */
export function createLanguageModelSource(options: LanguageModelSourceOptions) {
  const factories = new Map<string, ModelFactory>();
  const fingerprints = new WeakMap<ResolvedIntegration, string>();
  const MAX_FACTORIES = 256;

  return async function languageModelFor(
    organizationId: string,
    integrationId: string | undefined,
    model: string,
  ): Promise<{ model: LanguageModel; integration: ResolvedIntegration; provider: ProviderId }> {
    const { provider, modelName } = parseModelId(model);
    if (!isProviderId(provider))
      throw modelError(
        'model_not_found',
        `unknown provider "${provider}" in ${model} (known: simulator, ${PROVIDERS.join(', ')})`,
        {
          model,
        },
      );
    const integration = await options.resolveIntegration(organizationId, integrationId, provider);
    if (!integration)
      throw modelError(
        'provider_auth_failed',
        `no ${provider} integration${integrationId ? ` ${integrationId}` : ''} in this organization: add one`,
        { model, provider, integrationId: integrationId ?? null },
      );
    if (!integration.apiKey && !KEYLESS.has(provider))
      throw modelError('provider_auth_failed', `the ${provider} integration has no API key`, {
        model,
        provider,
        integrationId: integrationId ?? null,
      });
    // a resolver that returns the same object for unchanged settings (the server's cache) is hashed once
    let key = fingerprints.get(integration);
    if (key === undefined || !key.startsWith(`${provider}:`)) {
      key = `${provider}:${fingerprint(provider, integration)}`;
      fingerprints.set(integration, key);
    }
    let factory = factories.get(key);
    if (!factory) {
      factory = await factoryFor(provider, integration, options.fetch);
      if (factories.size >= MAX_FACTORIES) factories.clear();
      factories.set(key, factory);
    }
    return { model: factory(modelName), integration, provider };
  };
}

const lookupIds = new WeakMap<object, number>();
let lookupCount = 0;

/** The policy as part of a cache key: its categories, and which injected resolver (if any). */
function policyKey(policy: OutboundPolicy | undefined): string {
  const p = policy ?? PUBLIC_ONLY;
  let lookup = 0;
  if (p.lookup) {
    lookup = lookupIds.get(p.lookup) ?? ++lookupCount;
    lookupIds.set(p.lookup, lookup);
  }
  return `${[...p.allow].sort().join(',')}|${lookup}`;
}

function fingerprint(provider: string, integration: ResolvedIntegration): string {
  return createHash('sha256')
    .update(
      JSON.stringify([
        provider,
        integration.apiKey ?? '',
        integration.baseUrl ?? '',
        integration.config,
        policyKey(integration.network),
      ]),
    )
    .digest('base64url');
}
