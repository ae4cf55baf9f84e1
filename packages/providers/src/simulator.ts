/**
 * The simulator provider: model ids `simulator:<name>`, deterministic, no network, zero cost unless a price
 * list prices the model. The engine's tests, its benchmark and the demo run on it.
 *
 * - `simulator:echo` answers with the rendered prompt: the system prompt, each message's content and the
 *   prompt, in that order, joined by a blank line (just the prompt when that is all there is).
 * - `simulator:json` answers with `simulate.output`: the value as `output`, its JSON as `text`.
 * - Every simulator model honours `simulate`: `latencyMs` (waits, abortable), `failTimes` + `failWith`
 *   (attempts 1..failTimes fail: `retryable` → `provider_unavailable`, `fatal` → `provider_invalid_request`)
 *   and `output` (the answer, for `echo` too), or `when` (answers by content: the first case whose
 *   `contains` words appear in the prompt (not the system prompt), ignoring case, answers with its `output`; else `output`).
 *
 * Usage comes from the tokenizer (it is this provider's own count, so not `estimated`). The hot path at
 * latency 0 does no timers and no allocation beyond the result, so the engine benchmark measures the engine.
 */
import { AppError, type ModelPort, type ModelRequest, type ModelResult, type ModelUsage } from '@aiops/core';
import { abortError, sleep } from './abort.ts';
import { costOf, type ModelPrice } from './pricing/price.ts';
import { renderPromptText } from './render.ts';
import { countTokens } from './tokenizer.ts';

export const SIMULATOR_PROVIDER = 'simulator';
export const SIMULATOR_MODELS = ['echo', 'json'] as const;

/** The price of a model at a time, or undefined (free). */
export type PriceLookup = (model: string, at: Date) => ModelPrice | undefined;

export interface SimulatorOptions {
  /** Prices simulator models (e.g. the catalog plus the org's overrides); by default every call is free. */
  price?: PriceLookup;
  /** Clock for price lookups. */
  now?: () => Date;
}

/** How many pieces `onToken` receives for an answer (fewer when the answer has fewer words). */
const STREAM_PIECES = 4;

export function createSimulatorProvider(options: SimulatorOptions = {}): ModelPort {
  const now = options.now ?? (() => new Date());
  return {
    call(request) {
      if (request.signal.aborted) return Promise.reject(abortError(request.signal));
      const latency = request.simulate?.latencyMs ?? 0;
      if (latency > 0 && request.onToken) return streamed(request, latency, request.onToken);
      if (latency > 0) return sleep(latency, request.signal).then(() => answer(request));
      try {
        return Promise.resolve(answer(request));
      } catch (e) {
        return Promise.reject(e);
      }
    },
  };

  /** With latency and a listener: the pieces arrive spread over the latency, as a real stream would. */
  async function streamed(request: ModelRequest, latency: number, onToken: (delta: string) => void) {
    let result: ModelResult;
    try {
      result = answer({ ...request, onToken: undefined });
    } catch (e) {
      await sleep(latency, request.signal);
      throw e;
    }
    const parts = pieces(result.text);
    for (const part of parts.length ? parts : ['']) {
      await sleep(latency / Math.max(1, parts.length), request.signal);
      if (part) onToken(part);
    }
    return result;
  }

  function answer(request: ModelRequest): ModelResult {
    const name = simulatorModelName(request.model);
    const sim = request.simulate;
    const failTimes = sim?.failTimes ?? 0;
    if (request.attempt <= failTimes) throw simulatedFailure(request, sim?.failWith ?? 'retryable');

    const prompt = renderPromptText(request);
    let text: string;
    let output: unknown;
    // Cases read the prompt (not the system prompt, which often names every answer).
    const chosen = (sim?.when ? chooseCase(sim.when, request.prompt ?? prompt) : undefined) ?? {
      output: sim?.output,
    };
    if (chosen.output !== undefined) {
      output = chosen.output;
      text = typeof output === 'string' ? output : JSON.stringify(output);
    } else if (name === 'json') {
      throw new AppError(
        400,
        'provider_invalid_request',
        'simulator:json answers with simulate.output, and none was given',
        { retryable: false, details: { model: request.model } },
      );
    } else {
      text = prompt;
    }
    if (request.outputSchema && output === undefined) output = parseJsonOrText(text);

    if (request.onToken) streamPieces(text, request.onToken);

    const inputTokens = countTokens(prompt);
    const outputTokens = text === prompt ? inputTokens : countTokens(text);
    const usage: ModelUsage = {
      inputTokens,
      outputTokens,
      cachedInputTokens: 0,
      reasoningTokens: 0,
      totalTokens: inputTokens + outputTokens,
      estimated: false,
    };
    const price = options.price?.(request.model, now());
    const result: ModelResult = {
      text,
      model: request.model,
      usage,
      costUsd: price ? costOf(usage, price).usd : 0,
      finishReason: 'stop',
      toolCalls: [],
      cached: false,
    };
    if (output !== undefined) result.output = output;
    return result;
  }
}

/** The output of the first case whose words the prompt contains (ignoring case), else the default. */
function chooseCase(
  cases: { contains: string[]; output: unknown }[],
  prompt: string,
): { output: unknown } | undefined {
  const text = prompt.toLowerCase();
  return cases.find((c) => c.contains.some((w) => text.includes(w.toLowerCase())));
}

/** `simulator:echo` → `echo`; anything else → `model_not_found`. */
function simulatorModelName(model: string): (typeof SIMULATOR_MODELS)[number] {
  const name = model.startsWith(`${SIMULATOR_PROVIDER}:`) ? model.slice(SIMULATOR_PROVIDER.length + 1) : '';
  if (name === 'echo' || name === 'json') return name;
  throw new AppError(
    404,
    'model_not_found',
    `"${model}" is not a simulator model (known: ${SIMULATOR_MODELS.map((m) => `simulator:${m}`).join(', ')})`,
    { retryable: false, details: { model } },
  );
}

function simulatedFailure(request: ModelRequest, kind: 'retryable' | 'fatal'): AppError {
  const details = { model: request.model, attempt: request.attempt, simulated: true };
  return kind === 'fatal'
    ? new AppError(400, 'provider_invalid_request', `simulated fatal failure on attempt ${request.attempt}`, {
        retryable: false,
        details,
      })
    : new AppError(503, 'provider_unavailable', `simulated transient failure on attempt ${request.attempt}`, {
        retryable: true,
        details,
      });
}

function parseJsonOrText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** `text` cut into up to STREAM_PIECES pieces at word boundaries; their concatenation is `text`. */
function pieces(text: string): string[] {
  const out: string[] = [];
  const size = Math.ceil(text.length / STREAM_PIECES);
  let start = 0;
  while (start < text.length) {
    let end = Math.min(text.length, start + size);
    if (end < text.length) {
      const space = text.indexOf(' ', end);
      end = space === -1 ? text.length : space + 1;
    }
    out.push(text.slice(start, end));
    start = end;
  }
  return out;
}

/** Emits `text` as up to STREAM_PIECES deltas at once. */
function streamPieces(text: string, onToken: (delta: string) => void): void {
  for (const piece of pieces(text)) onToken(piece);
}
