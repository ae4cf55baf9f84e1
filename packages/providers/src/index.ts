/**
 * @aiops/providers: model calls behind the engine's `ModelPort` (packages/core/src/model-port.ts) — the
 * simulator and real providers through the Vercel AI SDK — with the price catalog and exact cost, budgets,
 * the response cache, token counting, and the tools models call (HTTP, JSON transform, MCP).
 */
export { abortError } from './abort.ts';
export {
  type BudgetPolicy,
  checkBudget,
  estimatePromptTokens,
  nextStepWouldExceed,
  type WorstCase,
  worstCaseCost,
} from './budget.ts';
export {
  type CachedAnswer,
  cacheKey,
  InMemoryResponseCache,
  type InMemoryResponseCacheOptions,
  type ResponseCache,
  stableStringify,
} from './cache.ts';
export {
  createEmbeddingPort,
  type EmbeddingPortOptions,
  SIMULATOR_EMBEDDING_DIMENSIONS,
  simulatorEmbedding,
} from './embeddings.ts';
export {
  type ClassifyContext,
  classifyProviderError,
  EXCERPT_CHARS,
  excerpt,
  modelError,
  retryAfterMs,
  scrub,
} from './errors.ts';
export { schemaProblem } from './json-schema.ts';
export {
  DEFAULT_BASE_URLS,
  type IntegrationResolver,
  isProviderId,
  type ParsedModelId,
  PROVIDERS,
  type ProviderId,
  parseModelId,
  type ResolvedIntegration,
  TOOLLESS_PROVIDERS,
} from './language-models.ts';
export { createModelPort, type ModelPortOptions } from './model-port.ts';
export {
  ADDRESS_CATEGORIES,
  type AddressCategory,
  categorize,
  DEFAULT_PRIVATE_CATEGORIES,
  type HostLookup,
  type OutboundPolicy,
  type OutboundPolicyInput,
  outboundPolicy,
  PUBLIC_ONLY,
  type ResolvedAddress,
  refusal,
} from './net/address.ts';
export { outboundConfigIssues } from './net/config-issues.ts';
export { guardedFetch, isCredentialHeader } from './net/fetch.ts';
export {
  addressBlocked,
  checkedAddress,
  isAddressBlocked,
  systemLookup,
  urlRefusal,
} from './net/resolve.ts';
export { type SignedPostInput, type SignedPostResult, signedPost } from './net/signed-post.ts';
export { PRICE_CATALOG, type PriceCatalog } from './pricing/catalog.ts';
export {
  decimalToPico,
  picoToDecimal,
  picoToUsd,
  picoUsdPerToken,
  usdToPico,
} from './pricing/decimal.ts';
export {
  appliesOn,
  type Cost,
  costFromPico,
  costOf,
  type ModelPrice,
  priceFor,
  ratesOf,
  type TokenRates,
  validatePrices,
  ZERO_COST,
} from './pricing/price.ts';
export { renderPromptText } from './render.ts';
export { DEFAULT_MAX_STEPS } from './sdk-call.ts';
export {
  createSimulatorProvider,
  type PriceLookup,
  SIMULATOR_MODELS,
  SIMULATOR_PROVIDER,
  type SimulatorOptions,
} from './simulator.ts';
export { countTokens, TOKENIZER_ENCODING, warmTokenizer } from './tokenizer.ts';
export {
  type HttpRequestToolConfig,
  type HttpToolResult,
  httpRequestConfig,
  httpRequestTool,
  runHttpRequest,
} from './tools/http-request.ts';
export { type JsonTransformToolConfig, jsonTransformTool, runJsonTransform } from './tools/json-transform.ts';
export {
  connectMcpServer,
  type McpConnectOptions,
  type McpServerConfig,
  type McpTools,
  mcpServerConfig,
  mcpToolName,
} from './tools/mcp.ts';
export { createTool, isToolKind, TOOL_KINDS, type ToolConfigs, type ToolKind } from './tools/registry.ts';
export { addUsage, ZERO_USAGE } from './usage.ts';
