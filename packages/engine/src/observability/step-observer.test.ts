import type { ModelPort, ModelRequest } from '@aiops/core';
import { describe, expect, it } from 'vitest';
import type { ClaimedStep } from '../sql/claim-steps.ts';
import type { StepOutcome } from '../sql/complete-steps.ts';
import { modelSpanId, runSpanId, stepSpanId } from './ids.ts';
import { StepObserver } from './step-observer.ts';

const step = {
  stepId: '00000000-0000-4000-8000-000000000001',
  runId: '00000000-0000-4000-8000-000000000002',
  organizationId: '00000000-0000-4000-8000-000000000003',
  nodeId: 'a',
  attempt: 2,
} as ClaimedStep;

const port: ModelPort = {
  call: async (req) => ({
    text: `echo ${req.prompt}`,
    model: req.model,
    usage: {
      inputTokens: 3,
      outputTokens: 4,
      cachedInputTokens: 0,
      reasoningTokens: 0,
      totalTokens: 7,
      estimated: false,
    },
    costUsd: 0.5,
    finishReason: 'stop',
    toolCalls: [],
    cached: false,
  }),
};

const request = (prompt: string) =>
  ({ model: 'simulator:echo', prompt, attempt: 2, signal: new AbortController().signal }) as ModelRequest;

const outcome = (): StepOutcome => ({
  step,
  kind: 'completed',
  input: {},
  output: 'x',
  nodeType: 'agent',
  startedAt: new Date('2026-12-07T10:00:00.000Z'),
  finishedAt: new Date('2026-12-07T10:00:00.250Z'),
});

describe('StepObserver', () => {
  it('stores nothing for a step whose only model call succeeded, and builds its spans for the export', async () => {
    const observer = new StepObserver(step, async () => 'trace');
    await observer.model(port).call(request('hi'));
    const r = observer.records(outcome());
    expect(r.logs).toEqual([]);
    expect(r.stored).toEqual([]);
    const [own, model] = r.spans();
    expect(own).toMatchObject({
      span_id: stepSpanId(step.stepId, 2),
      parent_span_id: runSpanId(step.runId),
      kind: 'step',
      status: 'ok',
      duration_ms: 250,
    });
    // The model span has the id the trace reader derives from the attempt row.
    expect(model).toMatchObject({
      span_id: modelSpanId(step.stepId, 2),
      parent_span_id: stepSpanId(step.stepId, 2),
      name: 'chat simulator:echo',
      kind: 'model',
      status: 'ok',
      input: { prompt: 'hi' },
      output: 'echo hi',
      cost: '0.500000000000',
      attributes: { 'gen_ai.provider.name': 'simulator', 'gen_ai.usage.output_tokens': 4 },
    });
    expect(observer.records(outcome())).toBe(r);
  });

  it('stores every model call of a step that made two, each under its own id, and logs a failed one', async () => {
    const observer = new StepObserver(step, async () => 'trace');
    await observer.model(port).call(request('one'));
    const failing: ModelPort = { call: async () => Promise.reject(new Error('boom')) };
    await expect(observer.model(failing).call(request('two'))).rejects.toThrow('boom');
    const r = observer.records(outcome());
    expect(r.stored.map((s) => [s.kind, s.status, s.input])).toEqual([
      ['model', 'ok', { prompt: 'one' }],
      ['model', 'error', { prompt: 'two' }],
    ]);
    expect(new Set(r.stored.map((s) => s.span_id)).size).toBe(2);
    expect(r.stored[1]).toMatchObject({ status_message: 'boom', attributes: { 'error.type': 'Error' } });
    expect(r.logs).toEqual([
      expect.objectContaining({
        level: 'error',
        message: 'Model call simulator:echo failed: boom',
        span_id: r.stored[1]!.span_id,
      }),
    ]);
    expect(r.spans().map((s) => s.span_id)).toEqual([
      stepSpanId(step.stepId, 2),
      ...r.stored.map((s) => s.span_id),
    ]);
  });
});
