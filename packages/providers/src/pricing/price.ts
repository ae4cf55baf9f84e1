/**
 * Prices and cost. Pure functions over data: the catalog shipped with the product (`catalog.ts`) and the
 * organization's overrides (negotiated or custom prices), both lists of `ModelPrice`.
 *
 * Glossary:
 * - price: USD per million tokens, a decimal string (exact), per kind of token.
 * - cost: usage × price, computed in integer picodollars, so it is exact; `usd` is that value as a number.
 */
import type { ModelUsage } from '@aiops/core';
import { decimalToPico, picoToDecimal, picoToUsd, picoUsdPerToken } from './decimal.ts';

export interface ModelPrice {
  /** `provider:model`; `provider:*` prices every model of a provider (e.g. `ollama:*` at 0). */
  model: string;
  /** First day (UTC, `YYYY-MM-DD`) the price applies. */
  effectiveFrom: string;
  /** First day it no longer applies, if it was superseded. */
  effectiveTo?: string;
  /** USD per million uncached input tokens. */
  input: string;
  /** USD per million output tokens (text). */
  output: string;
  /** USD per million input tokens read from the provider's prompt cache; defaults to `input`. */
  cachedInput?: string;
  /** USD per million input tokens written to the provider's prompt cache; defaults to `input`. */
  cacheWrite?: string;
  /** USD per million reasoning tokens; defaults to `output` (providers bill them as output). */
  reasoning?: string;
  /** USD per request to the model (Perplexity's search fee at the default, low, search context). */
  perRequest?: string;
  /** Where the figure comes from (a pricing page), for the reader. */
  source?: string;
}

export interface Cost {
  /** Exact, in picodollars (1e-12 USD). */
  picoUsd: bigint;
  /** Exact, as a decimal string of USD (for a `numeric` column). */
  usdDecimal: string;
  /** The nearest double to the exact value. */
  usd: number;
}

export const ZERO_COST: Cost = Object.freeze({ picoUsd: 0n, usdDecimal: '0', usd: 0 });

const DAY = /^\d{4}-\d{2}-\d{2}$/;
/** A dated snapshot suffix: `-2024-07-18` or `-20241022`. */
const SNAPSHOT_SUFFIX = /-(\d{4}-\d{2}-\d{2}|\d{8})$/;

function dayOf(at: Date): string {
  return at.toISOString().slice(0, 10);
}

/** Whether the price is in effect on `day` (YYYY-MM-DD): from `effectiveFrom` until before `effectiveTo`. */
export function appliesOn(price: ModelPrice, day: string): boolean {
  return price.effectiveFrom <= day && (price.effectiveTo === undefined || day < price.effectiveTo);
}

function latestFor(model: string, day: string, prices: readonly ModelPrice[]): ModelPrice | undefined {
  let best: ModelPrice | undefined;
  for (const p of prices) {
    if (p.model !== model || !appliesOn(p, day)) continue;
    if (!best || p.effectiveFrom > best.effectiveFrom) best = p;
  }
  return best;
}

function lookup(model: string, day: string, prices: readonly ModelPrice[]): ModelPrice | undefined {
  const exact = latestFor(model, day, prices);
  if (exact) return exact;
  const undated = model.replace(SNAPSHOT_SUFFIX, '');
  if (undated !== model) {
    const base = latestFor(undated, day, prices);
    if (base) return base;
  }
  const provider = model.slice(0, model.indexOf(':') + 1);
  return provider ? latestFor(`${provider}*`, day, prices) : undefined;
}

/**
 * The price of `model` on the day of `at`: the organization's override if one applies, else the catalog's.
 * Within each list, the entry for the exact id wins over the undated id (`gpt-4o-2024-08-06` → `gpt-4o`),
 * which wins over `provider:*`; among entries for one id, the latest `effectiveFrom` on or before that day.
 * Undefined when nothing prices the model.
 */
export function priceFor(
  model: string,
  at: Date,
  overrides: readonly ModelPrice[] = [],
  catalog: readonly ModelPrice[] = [],
): ModelPrice | undefined {
  const day = dayOf(at);
  return lookup(model, day, overrides) ?? lookup(model, day, catalog);
}

/** Picodollars per token for each kind of token of a price. */
export interface TokenRates {
  input: bigint;
  output: bigint;
  cachedInput: bigint;
  cacheWrite: bigint;
  reasoning: bigint;
  /** Picodollars per request. */
  perRequest: bigint;
}

const ratesMemo = new WeakMap<ModelPrice, TokenRates>();

export function ratesOf(price: ModelPrice): TokenRates {
  let rates = ratesMemo.get(price);
  if (!rates) {
    const input = picoUsdPerToken(price.input);
    const output = picoUsdPerToken(price.output);
    rates = {
      input,
      output,
      cachedInput: price.cachedInput === undefined ? input : picoUsdPerToken(price.cachedInput),
      cacheWrite: price.cacheWrite === undefined ? input : picoUsdPerToken(price.cacheWrite),
      reasoning: price.reasoning === undefined ? output : picoUsdPerToken(price.reasoning),
      perRequest: price.perRequest === undefined ? 0n : decimalToPico(price.perRequest),
    };
    ratesMemo.set(price, rates);
  }
  return rates;
}

export function costFromPico(picoUsd: bigint): Cost {
  return picoUsd === 0n
    ? ZERO_COST
    : { picoUsd, usdDecimal: picoToDecimal(picoUsd), usd: picoToUsd(picoUsd) };
}

const int = (n: number | undefined): bigint => BigInt(Math.max(0, Math.trunc(n ?? 0)));

/**
 * The exact cost of a usage at a price. Usage follows the AI SDK's convention: `inputTokens` includes cached
 * reads (`cachedInputTokens`) and cache writes (`cacheWriteInputTokens`); `outputTokens` includes
 * `reasoningTokens`. Each part is charged at its own rate, plus `perRequest` for each of `requests` model
 * requests (a tool loop makes one per step). No price → zero cost.
 */
export function costOf(usage: ModelUsage, price: ModelPrice | undefined, requests = 1): Cost {
  if (!price) return ZERO_COST;
  const r = ratesOf(price);
  const input = int(usage.inputTokens);
  const cached = min(int(usage.cachedInputTokens), input);
  const written = min(int(usage.cacheWriteInputTokens), input - cached);
  const output = int(usage.outputTokens);
  const reasoning = min(int(usage.reasoningTokens), output);
  const pico =
    (input - cached - written) * r.input +
    cached * r.cachedInput +
    written * r.cacheWrite +
    (output - reasoning) * r.output +
    reasoning * r.reasoning +
    BigInt(requests) * r.perRequest;
  return costFromPico(pico);
}

const min = (a: bigint, b: bigint): bigint => (a < b ? a : b);

/** Checks a list of prices (catalog or overrides): every figure a decimal of ≤ 6 places, dates as days. */
export function validatePrices(prices: readonly ModelPrice[]): string[] {
  const problems: string[] = [];
  prices.forEach((p, i) => {
    const at = `prices[${i}] (${p.model})`;
    if (!/^[a-z0-9-]+:.+$/.test(p.model)) problems.push(`${at}: model must be provider:model`);
    if (!DAY.test(p.effectiveFrom)) problems.push(`${at}: effectiveFrom must be YYYY-MM-DD`);
    if (p.effectiveTo !== undefined && !DAY.test(p.effectiveTo))
      problems.push(`${at}: effectiveTo must be YYYY-MM-DD`);
    if (p.perRequest !== undefined) {
      try {
        decimalToPico(p.perRequest);
      } catch (e) {
        problems.push(`${at}: perRequest: ${(e as Error).message}`);
      }
    }
    for (const key of ['input', 'output', 'cachedInput', 'cacheWrite', 'reasoning'] as const) {
      const v = p[key];
      if (v === undefined) continue;
      try {
        picoUsdPerToken(v);
      } catch (e) {
        problems.push(`${at}: ${key}: ${(e as Error).message}`);
      }
    }
  });
  return problems;
}
