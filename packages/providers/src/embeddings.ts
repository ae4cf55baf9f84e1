/**
 * Text embeddings for semantic memory, through the AI SDK's `embedMany` and the providers' embedding models
 * (OpenAI, Google, Cohere, Ollama and OpenAI-compatible servers), plus `simulator:embed`: a deterministic
 * feature-hashing embedding that needs no provider (tests, the demo, offline use).
 */
import { createHash } from 'node:crypto';
import type { EmbeddingPort, EmbeddingRequest, EmbeddingResult } from '@aiops/core';
import type { EmbeddingModel } from 'ai';
import { abortError } from './abort.ts';
import { classifyProviderError, modelError } from './errors.ts';
import {
  DEFAULT_BASE_URLS,
  type IntegrationResolver,
  isProviderId,
  type ProviderId,
  parseModelId,
  providerFetch,
  type ResolvedIntegration,
} from './language-models.ts';

/** Dimensions of `simulator:embed`. */
export const SIMULATOR_EMBEDDING_DIMENSIONS = 256;

/**
 * Words hashed into buckets (with a sign), L2-normalized: texts that share words point the same way, so
 * cosine similarity behaves like a crude bag-of-words match.
 */
export function simulatorEmbedding(text: string): number[] {
  const v = new Array<number>(SIMULATOR_EMBEDDING_DIMENSIONS).fill(0);
  for (const word of text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []) {
    const h = createHash('sha256').update(word).digest();
    const bucket = h.readUInt16BE(0) % SIMULATOR_EMBEDDING_DIMENSIONS;
    v[bucket]! += h[2]! & 1 ? 1 : -1;
  }
  const norm = Math.hypot(...v);
  // an empty text still needs a valid (non-zero) vector
  return norm === 0 ? v.map((_, i) => (i === 0 ? 1 : 0)) : v.map((x) => x / norm);
}

const EMBEDDING_PROVIDERS: ReadonlySet<ProviderId> = new Set([
  'openai',
  'google',
  'cohere',
  'ollama',
  'openai-compatible',
]);

async function embeddingModel(
  provider: ProviderId,
  modelName: string,
  integration: ResolvedIntegration,
  fetchImpl?: typeof fetch,
): Promise<EmbeddingModel> {
  const common = {
    apiKey: integration.apiKey,
    baseURL: integration.baseUrl ?? DEFAULT_BASE_URLS[provider],
    fetch: providerFetch(integration, fetchImpl),
  };
  switch (provider) {
    case 'openai': {
      const { createOpenAI } = await import('@ai-sdk/openai');
      return createOpenAI(common).embeddingModel(modelName);
    }
    case 'google': {
      const { createGoogleGenerativeAI } = await import('@ai-sdk/google');
      return createGoogleGenerativeAI(common).embeddingModel(modelName);
    }
    case 'cohere': {
      const { createCohere } = await import('@ai-sdk/cohere');
      return createCohere(common).embeddingModel(modelName);
    }
    default: {
      if (!common.baseURL)
        throw modelError('provider_invalid_request', `the ${provider} integration needs a base URL`, {
          provider,
        });
      const { createOpenAICompatible } = await import('@ai-sdk/openai-compatible');
      return createOpenAICompatible({ name: provider, ...common, baseURL: common.baseURL }).embeddingModel(
        modelName,
      );
    }
  }
}

export interface EmbeddingPortOptions {
  resolveIntegration: IntegrationResolver;
  fetch?: typeof fetch;
}

export function createEmbeddingPort(options: EmbeddingPortOptions): EmbeddingPort {
  return {
    async embed(request: EmbeddingRequest): Promise<EmbeddingResult> {
      if (request.signal.aborted) throw abortError(request.signal);
      const { provider, modelName } = parseModelId(request.model);
      if (provider === 'simulator') {
        if (modelName !== 'embed')
          throw modelError('model_not_found', `the simulator's embedding model is simulator:embed`, {
            model: request.model,
          });
        return { embeddings: request.texts.map(simulatorEmbedding), tokens: 0 };
      }
      if (!isProviderId(provider) || !EMBEDDING_PROVIDERS.has(provider))
        throw modelError(
          'model_not_found',
          `${provider} offers no embedding models here: use openai, google, cohere, ollama, openai-compatible or simulator:embed`,
          { model: request.model },
        );
      const integration = await options.resolveIntegration(
        request.organizationId,
        request.integrationId,
        provider,
      );
      if (!integration)
        throw modelError('provider_auth_failed', `no ${provider} integration in this organization: add one`, {
          model: request.model,
          provider,
        });
      try {
        const { embedMany } = await import('ai');
        const model = await embeddingModel(provider, modelName, integration, options.fetch);
        const out = await embedMany({
          model,
          values: request.texts,
          maxRetries: 0,
          abortSignal: request.signal,
        });
        return { embeddings: out.embeddings, tokens: out.usage?.tokens ?? 0 };
      } catch (e) {
        throw classifyProviderError(e, {
          model: request.model,
          signal: request.signal,
          secrets: [integration.apiKey],
        });
      }
    },
  };
}
