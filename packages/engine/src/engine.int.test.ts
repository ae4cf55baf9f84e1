import { testBackend } from '@aiops/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EngineHarness, engineHarness } from './test-support.ts';

let h: EngineHarness;
beforeAll(async () => {
  h = await engineHarness();
});
afterAll(() => h?.close());

const echo = (id: string, prompt: string, extra: Record<string, unknown> = {}) => ({
  id,
  type: 'agent',
  agent: { model: 'simulator:echo', prompt, ...extra },
});

describe(`engine on ${testBackend()}`, () => {
  it('runs a three-step workflow to completion with output, tokens and attempts', async () => {
    const { run, detail } = await h.run(
      {
        name: 'three',
        input: { type: 'object', properties: { ticket: { type: 'string' } }, required: ['ticket'] },
        nodes: [
          echo('a', 'A: {{input.ticket}}'),
          echo('b', 'B got [{{nodes.a.output}}]'),
          { id: 'out', type: 'output', value: { a: '{{nodes.a.output}}', b: '{{nodes.b.output}}' } },
        ],
        connections: [
          { from: 'a', to: 'b' },
          { from: 'b', to: 'out' },
        ],
      },
      { ticket: 'printer on fire' },
    );
    expect(run.status).toBe('completed');
    expect(run.outputData).toEqual({ a: 'A: printer on fire', b: 'B got [A: printer on fire]' });
    expect(run.stepsCompleted).toBe(3);
    expect(run.remainingNodes).toBe(0);
    expect(run.totalTokensUsed).toBeGreaterThan(0);
    expect(run.startedAt).toBeInstanceOf(Date);
    expect(run.completedAt!.getTime()).toBeGreaterThanOrEqual(run.startedAt!.getTime());
    expect(run.durationMs).toBeGreaterThanOrEqual(0);
    expect(detail.attempts.map((a) => [a.nodeId, a.attempt, a.status])).toEqual([
      ['a', 1, 'completed'],
      ['b', 1, 'completed'],
      ['out', 1, 'completed'],
    ]);
    const a = detail.attempts[0]!;
    expect(a.input).toMatchObject({ model: 'simulator:echo', prompt: 'A: printer on fire' });
    expect(a.inputTokens).toBeGreaterThan(0);
    expect(a.totalTokens).toBe(a.inputTokens + a.outputTokens);
    expect(Number(run.totalTokensUsed)).toBe(detail.attempts.reduce((s, x) => s + x.totalTokens, 0));
  });
  it('keeps an output that is a string of JSON text a string (run, step and attempt)', async () => {
    // Drizzle's jsonb parsed such strings once more: "42" came back as the number 42.
    for (const text of ['42', 'true', '{"a":1}']) {
      const { run, detail } = await h.run({
        name: `text ${text}`,
        nodes: [echo('a', text)],
        connections: [],
      });
      expect(run.outputData).toBe(text);
      expect(detail.steps.find((s) => s.nodeId === 'a')?.output).toBe(text);
      expect(detail.attempts[0]?.output).toBe(text);
    }
  });
});

describe(`control flow on ${testBackend()}`, () => {
  it('runs branches in parallel and joins them; a false condition skips its branch and what only it feeds', async () => {
    const { run, detail } = await h.run({
      name: 'diamond',
      nodes: [
        echo('start', 'go'),
        echo('left', 'L', { simulate: { latencyMs: 150 } }),
        echo('right', 'R', { simulate: { latencyMs: 150 } }),
        echo('never', 'N'),
        echo('after_never', 'AN'),
        { id: 'join', type: 'output', value: { l: '{{nodes.left.output}}', r: '{{nodes.right.output}}' } },
      ],
      connections: [
        { from: 'start', to: 'left' },
        { from: 'start', to: 'right' },
        { from: 'start', to: 'never', condition: "nodes.start.output == 'stop'" },
        { from: 'never', to: 'after_never' },
        { from: 'left', to: 'join' },
        { from: 'right', to: 'join' },
        { from: 'after_never', to: 'join' },
      ],
    });
    expect(run.status).toBe('completed');
    expect(run.outputData).toEqual({ l: 'L', r: 'R' });
    const status = Object.fromEntries(detail.steps.map((s) => [s.nodeId, s.status]));
    expect(status).toEqual({
      start: 'completed',
      left: 'completed',
      right: 'completed',
      never: 'skipped',
      after_never: 'skipped',
      join: 'completed',
    });
    const byNode = Object.fromEntries(detail.attempts.map((a) => [a.nodeId, a]));
    // Parallel: right started before left finished.
    expect(byNode.right!.startedAt!.getTime()).toBeLessThan(byNode.left!.completedAt!.getTime());
    expect(byNode.never).toBeUndefined();
    expect(run.stepsCompleted).toBe(4);
  });

  it('a join waits for every branch that is not skipped', async () => {
    const { run, detail } = await h.run({
      name: 'join-wait',
      nodes: [
        echo('a', 'a'),
        echo('slow', 's', { simulate: { latencyMs: 300 } }),
        echo('fast', 'f'),
        echo('j', '{{nodes.slow.output}}+{{nodes.fast.output}}'),
      ],
      connections: [
        { from: 'a', to: 'slow' },
        { from: 'a', to: 'fast' },
        { from: 'slow', to: 'j' },
        { from: 'fast', to: 'j' },
      ],
    });
    expect(run.status).toBe('completed');
    expect(run.outputData).toBe('s+f');
    const j = detail.attempts.find((x) => x.nodeId === 'j')!;
    const slow = detail.attempts.find((x) => x.nodeId === 'slow')!;
    expect(j.startedAt!.getTime()).toBeGreaterThanOrEqual(slow.completedAt!.getTime());
  });

  it('retries a retryable failure with backoff, then succeeds; attempts are recorded', async () => {
    const { run, detail } = await h.run({
      name: 'retry-ok',
      nodes: [echo('flaky', 'x', { simulate: { failTimes: 2, failWith: 'retryable' } })],
      connections: [],
      settings: { retry: { maxAttempts: 3, initialDelayMs: 100, jitter: false } },
    });
    expect(run.status).toBe('completed');
    const attempts = detail.attempts.filter((a) => a.nodeId === 'flaky');
    expect(attempts.map((a) => [a.attempt, a.status])).toEqual([
      [1, 'failed'],
      [2, 'failed'],
      [3, 'completed'],
    ]);
    // Exponential: ~100 ms then ~200 ms between attempts.
    const gap1 = attempts[1]!.startedAt!.getTime() - attempts[0]!.completedAt!.getTime();
    const gap2 = attempts[2]!.startedAt!.getTime() - attempts[1]!.completedAt!.getTime();
    expect(gap1).toBeGreaterThanOrEqual(95);
    expect(gap2).toBeGreaterThanOrEqual(195);
    expect(attempts[0]!.errorDetails).toMatchObject({ code: 'provider_unavailable', retryable: true });
  });

  it('fails the run when retries run out, or at once on a fatal error; later steps never start', async () => {
    const out = await h.run({
      name: 'retry-exhausted',
      nodes: [echo('flaky', 'x', { simulate: { failTimes: 5 } }), echo('next', 'y')],
      connections: [{ from: 'flaky', to: 'next' }],
      settings: { retry: { maxAttempts: 2, initialDelayMs: 10 } },
    });
    expect(out.run.status).toBe('failed');
    expect(out.run.errorCode).toBe('provider_unavailable');
    expect(out.run.errorMessage).toMatch(/Step flaky failed/);
    expect(out.detail.attempts.filter((a) => a.nodeId === 'flaky')).toHaveLength(2);
    expect(out.detail.steps.find((s) => s.nodeId === 'next')!.status).toBe('cancelled');

    const fatal = await h.run({
      name: 'fatal',
      nodes: [echo('bad', 'x', { simulate: { failTimes: 1, failWith: 'fatal' } })],
      settings: { retry: { maxAttempts: 5, initialDelayMs: 10 } },
    });
    expect(fatal.run.status).toBe('failed');
    expect(fatal.detail.attempts).toHaveLength(1);
  });

  it('a step timeout fails the attempt (and retries per policy)', async () => {
    const { run, detail } = await h.run({
      name: 'step-timeout',
      nodes: [
        {
          ...echo('slow', 'x', { simulate: { latencyMs: 2000 } }),
          timeoutMs: 100,
          retry: { maxAttempts: 2, initialDelayMs: 10 },
        },
      ],
    });
    expect(run.status).toBe('failed');
    expect(run.errorCode).toBe('step_timeout');
    expect(detail.attempts.map((a) => a.status)).toEqual(['failed', 'failed']);
    expect(detail.attempts[0]!.durationMs).toBeLessThan(1000);
  });

  it('a run timeout ends the run as timeout and stops its steps', async () => {
    const { run, detail } = await h.run({
      name: 'run-timeout',
      nodes: [echo('slow', 'x', { simulate: { latencyMs: 5000 } }), echo('next', 'y')],
      connections: [{ from: 'slow', to: 'next' }],
      settings: { timeoutMs: 300 },
    });
    expect(run.status).toBe('timeout');
    expect(run.errorCode).toBe('run_timeout');
    expect(detail.steps.find((s) => s.nodeId === 'next')!.status).toBe('cancelled');
    // the running step is aborted by its worker; its attempt is recorded as cancelled
    await expect
      .poll(async () => (await h.detail(run.id)).attempts.map((a) => a.status), { timeout: 5000 })
      .toEqual(['cancelled']);
  });
});
