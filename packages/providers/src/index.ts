/**
 * @aiops/providers: model calls behind the engine's `ModelPort` (packages/core/src/model-port.ts), the
 * simulator provider, the price catalog and cost, token counting.
 */
export { abortError } from './abort.ts';
export {
  decimalToPico,
  picoToDecimal,
  picoToUsd,
  picoUsdPerToken,
  usdToPico,
} from './pricing/decimal.ts';
export {
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
export {
  createSimulatorProvider,
  type PriceLookup,
  SIMULATOR_MODELS,
  SIMULATOR_PROVIDER,
  type SimulatorOptions,
} from './simulator.ts';
export { countTokens, TOKENIZER_ENCODING, warmTokenizer } from './tokenizer.ts';
