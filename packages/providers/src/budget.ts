/**
 * Budget pre-check: before a call is made, its worst-case cost — every prompt token at the uncached input
 * price plus `maxTokens` of output at the higher of the output and reasoning prices, plus any per-request
 * fee — is compared with the budget. A call that could exceed it is not made.
 *
 * Prompt tokens come from our tokenizer (o200k). Providers tokenize differently and add a few tokens of
 * framing per message, tool and schema, so the estimate is raised by a margin (default ×1.25 + 8 per
 * message) to stay on the safe side of "worst case".
 */
import type { ModelRequest, ModelUsage } from '@aiops/core';
import { modelError } from './errors.ts';
import { usdToPico } from './pricing/decimal.ts';
import { type Cost, costFromPico, costOf, type ModelPrice, ratesOf } from './pricing/price.ts';
import { renderPromptText } from './render.ts';
import { countTokens } from './tokenizer.ts';

export interface BudgetPolicy {
  /** Multiplier on the tokenizer's prompt count. Default 1.25. */
  promptTokenMargin?: number;
  /** Tokens added per message, tool and schema for the provider's framing. Default 8. */
  tokensPerItem?: number;
  /** The output cap sent when a budget is set and the request names no `maxTokens`. Default 4096. */
  defaultMaxTokens?: number;
}

export interface WorstCase {
  promptTokens: number;
  maxTokens: number;
  cost: Cost;
}

export function estimatePromptTokens(request: ModelRequest, policy: BudgetPolicy = {}): number {
  const margin = policy.promptTokenMargin ?? 1.25;
  const perItem = policy.tokensPerItem ?? 8;
  let tokens = countTokens(renderPromptText(request));
  let items = (request.messages?.length ?? 0) + (request.prompt ? 1 : 0) + (request.system ? 1 : 0);
  for (const t of request.tools ?? []) {
    tokens += countTokens(`${t.name}\n${t.description}\n${JSON.stringify(t.inputSchema)}`);
    items += 1;
  }
  if (request.outputSchema) {
    tokens += countTokens(JSON.stringify(request.outputSchema));
    items += 1;
  }
  return Math.ceil(tokens * margin) + items * perItem;
}

/** Math.max for bigints (which Math.max does not take). */
function maxOf(a: bigint, b: bigint): bigint {
  if (a > b) return a;
  return b;
}

/** The most a request of `promptTokens` in and `maxTokens` out can cost at `price`. */
export function worstCaseCost(promptTokens: number, maxTokens: number, price: ModelPrice): Cost {
  const r = ratesOf(price);
  const outRate = maxOf(r.output, r.reasoning);
  return costFromPico(BigInt(promptTokens) * r.input + BigInt(maxTokens) * outRate + r.perRequest);
}

/**
 * Throws `budget_exceeded` when the request could cost more than `request.budgetUsd`; returns the output
 * cap to send (the request's, or the policy's default) and the worst case that was checked.
 */
export function checkBudget(
  request: ModelRequest,
  price: ModelPrice | undefined,
  policy: BudgetPolicy = {},
): WorstCase | undefined {
  const budget = request.budgetUsd;
  if (budget === undefined) return undefined;
  const maxTokens = request.maxTokens ?? policy.defaultMaxTokens ?? 4096;
  const promptTokens = estimatePromptTokens(request, policy);
  const details = { model: request.model, budgetUsd: budget, promptTokens, maxTokens };
  if (!price)
    throw modelError(
      'budget_exceeded',
      `${request.model} has no price, so its cost cannot be bounded by the budget of $${budget}: add a price override`,
      { ...details, reason: 'unpriced' },
    );
  const cost = worstCaseCost(promptTokens, maxTokens, price);
  if (cost.picoUsd > usdToPico(budget))
    throw modelError(
      'budget_exceeded',
      `this call could cost up to $${cost.usdDecimal} (${promptTokens} prompt tokens + ${maxTokens} output tokens at ${request.model} prices), more than its budget of $${budget}; it was not made`,
      { ...details, worstCaseUsd: cost.usd },
    );
  return { promptTokens, maxTokens, cost };
}

/**
 * For tool loops: true when the next step could take the call over budget, given what the steps so far
 * cost and how large the next request will be.
 */
export function nextStepWouldExceed(
  budgetUsd: number,
  price: ModelPrice,
  spent: readonly ModelUsage[],
  nextPromptTokens: number,
  maxTokens: number,
  policy: BudgetPolicy = {},
): boolean {
  let pico = 0n;
  for (const u of spent) pico += costOf(u, price).picoUsd;
  const next = worstCaseCost(
    Math.ceil(nextPromptTokens * (policy.promptTokenMargin ?? 1.25)),
    maxTokens,
    price,
  );
  return pico + next.picoUsd > usdToPico(budgetUsd);
}
