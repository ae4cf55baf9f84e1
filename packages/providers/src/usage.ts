/**
 * Usage truth: the tokens a provider reported for each model request (step) of a call, summed; a tokenizer
 * estimate, marked `estimated`, for any step that reported none.
 *
 * Conventions (those of the AI SDK, which each provider package maps its wire usage onto): input includes
 * cached reads and cache writes; output includes reasoning. One exception is corrected here: Cohere reports
 * both the tokens the model processed (`tokens`, which the AI SDK passes on) and the tokens it bills
 * (`billed_units`); cost follows the bill, so its usage is taken from `billed_units`.
 */
import type { ModelUsage } from '@aiops/core';
import type { LanguageModelUsage } from 'ai';
import { countTokens } from './tokenizer.ts';

export const ZERO_USAGE: Readonly<ModelUsage> = Object.freeze({
  inputTokens: 0,
  outputTokens: 0,
  cachedInputTokens: 0,
  reasoningTokens: 0,
  totalTokens: 0,
  estimated: false,
});

export interface StepUsageInput {
  usage: LanguageModelUsage | undefined;
  /** What this step sent and answered, for an estimate when the provider reported nothing. */
  estimate: () => { inputText: string; outputText: string };
}

const n = (v: number | undefined): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

function cohereBilled(raw: unknown): { input: number; output: number } | undefined {
  if (!raw || typeof raw !== 'object') return undefined;
  const billed = (raw as { billed_units?: { input_tokens?: unknown; output_tokens?: unknown } }).billed_units;
  if (!billed || typeof billed.input_tokens !== 'number' || typeof billed.output_tokens !== 'number')
    return undefined;
  return { input: billed.input_tokens, output: billed.output_tokens };
}

/** One step's usage in the port's terms. */
export function stepUsage(provider: string, step: StepUsageInput): ModelUsage {
  const u = step.usage;
  if (provider === 'cohere') {
    const billed = cohereBilled(u?.raw);
    if (billed)
      return {
        inputTokens: billed.input,
        outputTokens: billed.output,
        cachedInputTokens: 0,
        reasoningTokens: 0,
        totalTokens: billed.input + billed.output,
        estimated: false,
      };
  }
  // Some provider packages (xAI) stand in zeros for a missing usage object; zero in and zero out with no
  // raw usage means nothing was reported.
  const unreported = !u || (u.raw === undefined && !u.inputTokens && !u.outputTokens);
  const reportedIn = unreported ? undefined : u.inputTokens;
  const reportedOut = unreported ? undefined : u.outputTokens;
  let estimated = false;
  let inputTokens = reportedIn;
  let outputTokens = reportedOut;
  if (inputTokens === undefined || outputTokens === undefined) {
    const { inputText, outputText } = step.estimate();
    estimated = true;
    inputTokens ??= countTokens(inputText);
    outputTokens ??= countTokens(outputText);
  }
  const usage: ModelUsage = {
    inputTokens,
    outputTokens,
    cachedInputTokens: n(u?.inputTokenDetails?.cacheReadTokens ?? u?.cachedInputTokens),
    reasoningTokens: n(u?.outputTokenDetails?.reasoningTokens ?? u?.reasoningTokens),
    totalTokens: inputTokens + outputTokens,
    estimated,
  };
  const written = u?.inputTokenDetails?.cacheWriteTokens;
  if (written) usage.cacheWriteInputTokens = written;
  return usage;
}

export function addUsage(a: ModelUsage, b: ModelUsage): ModelUsage {
  const sum: ModelUsage = {
    inputTokens: a.inputTokens + b.inputTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    cachedInputTokens: a.cachedInputTokens + b.cachedInputTokens,
    reasoningTokens: a.reasoningTokens + b.reasoningTokens,
    totalTokens: a.totalTokens + b.totalTokens,
    estimated: a.estimated || b.estimated,
  };
  const written = (a.cacheWriteInputTokens ?? 0) + (b.cacheWriteInputTokens ?? 0);
  if (written) sum.cacheWriteInputTokens = written;
  return sum;
}
