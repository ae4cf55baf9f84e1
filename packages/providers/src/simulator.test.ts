import { AppError, type ModelRequest } from '@aiops/core';
import { Tiktoken } from 'js-tiktoken/lite';
import o200kBase from 'js-tiktoken/ranks/o200k_base';
import { describe, expect, it } from 'vitest';
import { createSimulatorProvider } from './simulator.ts';

// An encoder of the test's own, so counts are checked against the tokenizer itself, not our wrapper.
const reference = new Tiktoken(o200kBase);
const tokens = (s: string) => reference.encode(s, [], []).length;

const request = (over: Partial<ModelRequest> = {}): ModelRequest => ({
  model: 'simulator:echo',
  attempt: 1,
  idempotencyKey: 'run-1:step-1:1',
  organizationId: '00000000-0000-0000-0000-000000000001',
  signal: new AbortController().signal,
  ...over,
});

async function failure(p: Promise<unknown>): Promise<AppError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(AppError);
  return e as AppError;
}

describe('simulator provider', () => {
  const sim = createSimulatorProvider();

  it('echo answers with the prompt, counting tokens with the o200k tokenizer, at zero cost', async () => {
    const prompt = 'Summarize ticket #42: the customer cannot log in after a password reset.';
    const r = await sim.call(request({ prompt }));
    expect(r.text).toBe(prompt);
    expect(r.model).toBe('simulator:echo');
    expect(r.usage).toEqual({
      inputTokens: tokens(prompt),
      outputTokens: tokens(prompt),
      cachedInputTokens: 0,
      reasoningTokens: 0,
      totalTokens: 2 * tokens(prompt),
      estimated: false,
    });
    expect(r.usage.inputTokens).toBeGreaterThan(5);
    expect(r.costUsd).toBe(0);
    expect(r.cached).toBe(false);
    expect(r.finishReason).toBe('stop');
    expect(r.toolCalls).toEqual([]);
    expect(r.output).toBeUndefined();
  });

  it('echo renders system prompt, messages and prompt as sent, in order', async () => {
    const r = await sim.call(
      request({
        system: 'You are terse.',
        messages: [
          { role: 'user', content: 'first question' },
          { role: 'assistant', content: 'first answer' },
        ],
        prompt: 'second question',
      }),
    );
    const rendered = 'You are terse.\n\nfirst question\n\nfirst answer\n\nsecond question';
    expect(r.text).toBe(rendered);
    expect(r.usage.inputTokens).toBe(tokens(rendered));
  });

  it('counts text containing special-token markers as plain text instead of failing', async () => {
    const prompt = 'ends with <|endoftext|> literally';
    const r = await sim.call(request({ prompt }));
    expect(r.usage.inputTokens).toBe(tokens(prompt));
  });

  it('json answers with simulate.output as output and as JSON text; output tokens count that text', async () => {
    const output = { category: 'billing', priority: 2, tags: ['refund', 'urgent'] };
    const r = await sim.call(request({ model: 'simulator:json', prompt: 'classify', simulate: { output } }));
    expect(r.output).toEqual(output);
    expect(r.text).toBe(JSON.stringify(output));
    expect(r.usage.inputTokens).toBe(tokens('classify'));
    expect(r.usage.outputTokens).toBe(tokens(JSON.stringify(output)));
  });

  it("simulate.when answers by the prompt's content: the first matching case, else output", async () => {
    const simulate = {
      output: { category: 'bug' },
      when: [
        { contains: ['Unsubscribe', 'winner'], output: { category: 'spam' } },
        { contains: ['invoice'], output: { category: 'billing' } },
      ],
    };
    const ask = (prompt: string) =>
      sim.call(request({ model: 'simulator:json', system: 'bug, billing or spam?', prompt, simulate }));
    expect((await ask('You are a WINNER, click to claim')).output).toEqual({ category: 'spam' });
    expect((await ask('My invoice is wrong; unsubscribe me')).output).toEqual({ category: 'spam' });
    expect((await ask('Where is my invoice?')).output).toEqual({ category: 'billing' });
    expect((await ask('The app crashes')).output).toEqual({ category: 'bug' });
    // The system prompt is not read: it names every answer.
    const r = await sim.call(
      request({ model: 'simulator:json', system: 'winner', prompt: 'The app crashes', simulate }),
    );
    expect(r.output).toEqual({ category: 'bug' });
    expect(r.text).toBe(JSON.stringify({ category: 'bug' }));
  });

  it('json without simulate.output is a fatal invalid request', async () => {
    const e = await failure(sim.call(request({ model: 'simulator:json', prompt: 'x' })));
    expect(e.code).toBe('provider_invalid_request');
    expect(e.retryable).toBe(false);
  });

  it('echo honours simulate.output too, and parses JSON text when an output schema is asked for', async () => {
    const r = await sim.call(request({ prompt: 'x', simulate: { output: 'fixed answer' } }));
    expect(r.text).toBe('fixed answer');
    const structured = await sim.call(
      request({ prompt: '{"ok":true,"n":3}', outputSchema: { type: 'object' } }),
    );
    expect(structured.output).toEqual({ ok: true, n: 3 });
  });

  it('unknown simulator names are model_not_found, not retryable', async () => {
    const e = await failure(sim.call(request({ model: 'simulator:nope', prompt: 'x' })));
    expect(e.code).toBe('model_not_found');
    expect(e.status).toBe(404);
    expect(e.retryable).toBe(false);
  });

  it('failTimes fails attempts 1..failTimes with a retryable provider_unavailable, then answers', async () => {
    const simulate = { failTimes: 2, failWith: 'retryable' as const };
    for (const attempt of [1, 2]) {
      const e = await failure(sim.call(request({ prompt: 'p', simulate, attempt })));
      expect(e.code).toBe('provider_unavailable');
      expect(e.retryable).toBe(true);
      expect(e.details).toMatchObject({ attempt, simulated: true });
    }
    const r = await sim.call(request({ prompt: 'p', simulate, attempt: 3 }));
    expect(r.text).toBe('p');
  });

  it('failWith fatal fails with a non-retryable provider_invalid_request; retryable is the default', async () => {
    const fatal = await failure(
      sim.call(request({ prompt: 'p', simulate: { failTimes: 1, failWith: 'fatal' } })),
    );
    expect(fatal.code).toBe('provider_invalid_request');
    expect(fatal.retryable).toBe(false);
    const dflt = await failure(sim.call(request({ prompt: 'p', simulate: { failTimes: 1 } })));
    expect(dflt.code).toBe('provider_unavailable');
  });

  it('waits latencyMs before answering', async () => {
    const started = performance.now();
    await sim.call(request({ prompt: 'p', simulate: { latencyMs: 60 } }));
    expect(performance.now() - started).toBeGreaterThanOrEqual(55);
  });

  it('rejects promptly with the abort reason when the signal aborts during the latency', async () => {
    const ac = new AbortController();
    const started = performance.now();
    const call = sim.call(request({ prompt: 'p', simulate: { latencyMs: 5_000 }, signal: ac.signal }));
    setTimeout(() => ac.abort(new Error('step cancelled')), 20);
    await expect(call).rejects.toThrow('step cancelled');
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it('rejects at once with an AbortError when the signal is already aborted', async () => {
    const ac = new AbortController();
    ac.abort();
    const e = await sim.call(request({ prompt: 'p', signal: ac.signal })).catch((err: unknown) => err);
    expect((e as Error).name).toBe('AbortError');
  });

  it('streams the answer to onToken in a few deltas that concatenate to the text', async () => {
    const deltas: string[] = [];
    const prompt = 'one two three four five six seven eight nine ten eleven twelve';
    const r = await sim.call(request({ prompt, onToken: (d) => deltas.push(d) }));
    expect(deltas.join('')).toBe(r.text);
    expect(deltas.length).toBeGreaterThan(1);
    expect(deltas.length).toBeLessThanOrEqual(4);
  });

  it('charges the price list price when one prices the model, exactly', async () => {
    const priced = createSimulatorProvider({
      price: (model) =>
        model === 'simulator:echo'
          ? { model, effectiveFrom: '2020-01-01', input: '1.25', output: '10' }
          : undefined,
    });
    const prompt = 'a priced prompt of a few tokens';
    const r = await priced.call(request({ prompt }));
    const n = BigInt(tokens(prompt));
    // picodollars: $1.25/M = 1_250_000 pico per token, $10/M = 10_000_000 pico per token
    const pico = n * 1_250_000n + n * 10_000_000n;
    const exact = `${pico / 10n ** 12n}.${(pico % 10n ** 12n).toString().padStart(12, '0')}`;
    expect(r.costUsd).toBe(Number(exact));
    expect(r.costUsd).toBeGreaterThan(0);
  });
});
