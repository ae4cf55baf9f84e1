/**
 * `createModelPort`: the `ModelPort` the engine calls. It routes `simulator:*` to the simulator and every
 * other `provider:model` to that provider through the AI SDK, and around each call it
 * 1. serves an opt-in cached answer (zero cost, `cached: true`);
 * 2. checks the budget against the worst case, and makes no call that could exceed it;
 * 3. records usage as the provider reported it (estimated by the tokenizer only when it reported none);
 * 4. prices it from the catalog and the organization's overrides, exactly;
 * 5. classifies failures into the port's error codes.
 */
import type { ModelPort, ModelRequest, ModelResult, ModelUsage } from '@aiops/core';
import { abortError } from './abort.ts';
import { type BudgetPolicy, checkBudget, nextStepWouldExceed } from './budget.ts';
import { cacheKey, type ResponseCache } from './cache.ts';
import { classifyProviderError, modelError } from './errors.ts';
import {
  createLanguageModelSource,
  type IntegrationResolver,
  parseModelId,
  TOOLLESS_PROVIDERS,
} from './language-models.ts';
import { PRICE_CATALOG } from './pricing/catalog.ts';
import { type Cost, costOf, type ModelPrice, priceFor } from './pricing/price.ts';
import { runSdkCall } from './sdk-call.ts';
import { createSimulatorProvider, SIMULATOR_PROVIDER } from './simulator.ts';
import { addUsage, ZERO_USAGE } from './usage.ts';

export interface ModelPortOptions {
  /** Credentials for a call (the lead wires it to the `integrations` table). */
  resolveIntegration: IntegrationResolver;
  /** The organization's price overrides (negotiated or custom prices); they win over the catalog. */
  priceOverrides?: (organizationId: string) => readonly ModelPrice[] | Promise<readonly ModelPrice[]>;
  /** The price catalog; the one shipped with the product by default. */
  catalog?: readonly ModelPrice[];
  /** Where cached answers live; without one, `cacheTtlMs` is ignored. */
  cache?: ResponseCache;
  /** How the budget check estimates the worst case. */
  budget?: BudgetPolicy;
  /** Clock for price lookups. */
  now?: () => Date;
  /**
   * Replaces the fetch provider packages use, which otherwise obeys each integration's outbound policy
   * (`ResolvedIntegration.network`): benchmarks only; the server never passes one.
   */
  fetch?: typeof fetch;
}

export function createModelPort(options: ModelPortOptions): ModelPort {
  // The AI SDK prints its warnings (e.g. "temperature is not supported for reasoning models") with
  // console.warn, which would break the JSON log lines; they are informational, so they are silenced.
  (globalThis as { AI_SDK_LOG_WARNINGS?: unknown }).AI_SDK_LOG_WARNINGS ??= false;
  const catalog = options.catalog ?? PRICE_CATALOG.models;
  const now = options.now ?? (() => new Date());
  const simulator = createSimulatorProvider();
  const languageModelFor = createLanguageModelSource({
    resolveIntegration: options.resolveIntegration,
    fetch: options.fetch,
  });

  async function priceOf(request: ModelRequest): Promise<ModelPrice | undefined> {
    const overrides = options.priceOverrides ? await options.priceOverrides(request.organizationId) : [];
    return priceFor(request.model, now(), overrides, catalog);
  }

  async function call(request: ModelRequest): Promise<ModelResult> {
    if (request.signal.aborted) throw abortError(request.signal);
    const { provider } = parseModelId(request.model);
    const key = request.cacheTtlMs && options.cache ? cacheKey(request) : undefined;
    if (key) {
      // the cache only saves money: when it fails, the call is made as if it had missed
      const hit = await options.cache!.get(key, request.organizationId).catch(() => undefined);
      if (hit) {
        if (request.onToken && hit.text) request.onToken(hit.text);
        return {
          ...hit,
          model: request.model,
          usage: { ...ZERO_USAGE },
          costUsd: 0,
          costUsdDecimal: '0',
          cached: true,
        };
      }
    }

    const price = await priceOf(request);
    const worst = checkBudget(request, price, options.budget);
    const result =
      provider === SIMULATOR_PROVIDER
        ? await callSimulator(request, price)
        : await callProvider(request, price, worst?.maxTokens ?? request.maxTokens);
    if (key)
      await options
        .cache!.set(
          key,
          {
            text: result.text,
            output: result.output,
            finishReason: result.finishReason,
            toolCalls: result.toolCalls,
          },
          request.cacheTtlMs!,
          request.organizationId,
        )
        .catch(() => undefined);
    return result;
  }

  async function callSimulator(request: ModelRequest, price: ModelPrice | undefined): Promise<ModelResult> {
    const result = await simulator.call(request);
    return withCost(result, result.usage, price, 1);
  }

  async function callProvider(
    request: ModelRequest,
    price: ModelPrice | undefined,
    maxTokens: number | undefined,
  ): Promise<ModelResult> {
    let apiKey: string | undefined;
    let stoppedByBudget = false;
    try {
      const { model, integration, provider } = await languageModelFor(
        request.organizationId,
        request.integrationId,
        request.model,
      );
      apiKey = integration.apiKey;
      if ((request.tools?.length || request.clientTools?.length) && TOOLLESS_PROVIDERS.has(provider))
        throw modelError(
          'provider_invalid_request',
          `${provider} models cannot call tools: remove the agent's tools or choose another model`,
          { model: request.model, provider },
        );
      const budget = request.budgetUsd;
      const out = await runSdkCall({
        request,
        model,
        provider,
        maxTokens,
        stopBeforeNextStep:
          budget !== undefined && price
            ? (spent, nextPromptTokens) => {
                stoppedByBudget = nextStepWouldExceed(
                  budget,
                  price,
                  spent,
                  nextPromptTokens,
                  maxTokens ?? 0,
                  options.budget,
                );
                return stoppedByBudget;
              }
            : undefined,
      });
      const usage = out.stepUsages.reduce(addUsage, { ...ZERO_USAGE });
      const result = withCost(
        {
          text: out.text,
          model: request.model,
          usage,
          costUsd: 0,
          finishReason: out.finishReason,
          toolCalls: out.toolCalls,
          cached: false,
          ...(out.output !== undefined ? { output: out.output } : {}),
          ...(integration.id ? { integrationId: integration.id } : {}),
        },
        usage,
        price,
        out.stepUsages.length,
      );
      if (stoppedByBudget)
        throw modelError(
          'budget_exceeded',
          `the tool loop stopped after ${out.stepUsages.length} model requests: the next one could take ${request.model} over its budget of $${budget}`,
          {
            model: request.model,
            budgetUsd: budget,
            spentUsd: result.costUsd,
            spentUsdDecimal: result.costUsdDecimal,
            usage: result.usage,
            toolCalls: result.toolCalls,
          },
        );
      return result;
    } catch (e) {
      throw classifyProviderError(e, { model: request.model, signal: request.signal, secrets: [apiKey] });
    }
  }

  return { call };
}

function withCost(
  result: ModelResult,
  usage: ModelUsage,
  price: ModelPrice | undefined,
  requests: number,
): ModelResult {
  const cost: Cost = costOf(usage, price, requests);
  result.costUsd = cost.usd;
  result.costUsdDecimal = cost.usdDecimal;
  result.priced = price !== undefined;
  return result;
}
