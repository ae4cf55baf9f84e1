import {
  formatTraceparent,
  isAppError,
  type ModelPort,
  type ModelRequest,
  type ModelResult,
  type ModelTool,
  withTraceparent,
} from '@aiops/core';
import type { ClaimedStep } from '../sql/claim-steps.ts';
import type { StepOutcome } from '../sql/complete-steps.ts';
import { modelSpanId, newSpanId, runSpanId, stepSpanId } from './ids.ts';

export type Level = 'debug' | 'info' | 'warning' | 'error' | 'critical';

/** A log line as `aiops_record_observations` takes it (the run's organization and trace id are added there). */
export interface LogRecord {
  run_id: string;
  step_id: string;
  attempt: number;
  node_id: string;
  level: Level;
  message: string;
  context?: Record<string, unknown>;
  span_id: string;
  parent_span_id?: string;
  source?: string;
  at: string;
}

export interface SpanRecord {
  run_id: string;
  step_id: string;
  attempt: number;
  node_id: string;
  span_id: string;
  parent_span_id: string;
  name: string;
  kind: 'step' | 'model' | 'tool' | 'mcp' | 'subworkflow';
  status: 'unset' | 'ok' | 'error';
  status_message?: string;
  start_time: string;
  end_time: string;
  duration_ms: number;
  model?: string;
  input_tokens?: number;
  output_tokens?: number;
  total_tokens?: number;
  cost?: string;
  input?: unknown;
  output?: unknown;
  attributes: Record<string, unknown>;
  links?: unknown;
}

/** A span collected while the attempt runs; its record is built when it is stored or exported. */
interface Collected {
  kind: SpanRecord['kind'];
  status: SpanRecord['status'];
  /** The record, under `spanId` when given (a model span derived from the attempt row has a derived id). */
  record: (spanId?: string) => SpanRecord;
}

/** An attempt's log lines and the spans stored with them; `spans()` builds every span (for the export). */
export interface Recorded {
  logs: LogRecord[];
  stored: SpanRecord[];
  spans: () => SpanRecord[];
}

/** Stored span inputs and outputs are bounded: a larger value keeps a preview. */
const MAX_VALUE_CHARS = 16_384;

function bounded(value: unknown): unknown {
  if (value === undefined) return undefined;
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  if (text === undefined || text.length <= MAX_VALUE_CHARS) return value;
  return { truncated: true, chars: text.length, preview: text.slice(0, 2_000) };
}

/** Who runs this call: the MCP tools an agent offers are named `mcp…` / `server__tool` by the MCP adapter. */
const isMcp = (name: string) => name.includes('__') || name.startsWith('mcp');

/**
 * Collects the log lines and spans of one step attempt while it executes: the step's own span (child of
 * the run's), a span per model call (OpenTelemetry GenAI semantic conventions plus our cost) and per tool
 * or MCP call (children of the model call that asked for them), and the lines nodes add. Nothing is
 * written here: the worker hands `records(outcome)` to the statement that records the outcome.
 */
export class StepObserver {
  private ownSpanId: string | undefined;
  private readonly logs: LogRecord[] = [];
  private readonly spans: Collected[] = [];
  private currentModelSpan: string | undefined;
  private recorded: Recorded | undefined;

  constructor(
    readonly step: ClaimedStep,
    private readonly traceIdOf: (runId: string) => Promise<string>,
  ) {}

  /** The attempt's own span id (derived from the step and attempt, so computed only when used). */
  get spanId(): string {
    this.ownSpanId ??= stepSpanId(this.step.stepId, this.step.attempt);
    return this.ownSpanId;
  }

  /** Adds a log line to this attempt (nodes and tools may call it). */
  log(level: Level, message: string, context?: Record<string, unknown>, spanId = this.spanId): void {
    if (this.logs.length >= 200) return;
    this.logs.push({
      run_id: this.step.runId,
      step_id: this.step.stepId,
      attempt: this.step.attempt,
      node_id: this.step.nodeId,
      level,
      message: message.slice(0, 4_000),
      ...(context ? { context } : {}),
      span_id: spanId,
      ...(spanId !== this.spanId ? { parent_span_id: this.spanId } : {}),
      at: new Date().toISOString(),
    });
  }

  /** The model port as this attempt uses it: each call becomes a `chat <model>` span. */
  model(port: ModelPort): ModelPort {
    return {
      call: async (req: ModelRequest): Promise<ModelResult> => {
        const spanId = newSpanId();
        const started = new Date();
        const tools = req.tools?.map((t) => this.tool(t, spanId));
        this.currentModelSpan = spanId;
        try {
          const res = await port.call(tools ? { ...req, tools } : req);
          this.modelSpan(spanId, req, started, res);
          return res;
        } catch (e) {
          this.modelSpan(spanId, req, started, undefined, e);
          throw e;
        } finally {
          this.currentModelSpan = undefined;
        }
      },
    };
  }

  /** A tool as this attempt runs it: a span per call, and outbound HTTP carries its `traceparent`. */
  tool(tool: ModelTool, parent?: string): ModelTool {
    return {
      ...tool,
      execute: async (input: unknown, signal: AbortSignal) => {
        const spanId = newSpanId();
        const parentSpan = parent ?? this.currentModelSpan ?? this.spanId;
        const started = new Date();
        const traceparent = formatTraceparent({ traceId: await this.traceIdOf(this.step.runId), spanId });
        try {
          const output = await withTraceparent(traceparent, () => tool.execute(input, signal));
          this.toolSpan(spanId, parentSpan, tool.name, started, input, output);
          this.log(
            'info',
            `Tool ${tool.name} called`,
            { durationMs: Date.now() - started.getTime() },
            spanId,
          );
          return output;
        } catch (e) {
          this.toolSpan(spanId, parentSpan, tool.name, started, input, undefined, e);
          this.log('error', `Tool ${tool.name} failed: ${messageOf(e)}`, errorContext(e), spanId);
          throw e;
        }
      },
    };
  }

  /**
   * A model call's span. Its record is built only when it is stored or exported: a step's only model call,
   * successful and without tools, is derived from the attempt row instead (`records`), which is most steps.
   */
  private modelSpan(spanId: string, req: ModelRequest, started: Date, res?: ModelResult, err?: unknown) {
    const ended = new Date();
    if (!res) {
      const code = isAppError(err) ? err.code : 'error';
      this.log(
        'error',
        code === 'budget_exceeded'
          ? `Budget stop: ${messageOf(err)}`
          : `Model call ${req.model} failed: ${messageOf(err)}`,
        errorContext(err),
        spanId,
      );
    }
    const messages = req.messages?.slice();
    this.spans.push({
      kind: 'model',
      status: res ? 'ok' : 'error',
      record: (id = spanId) => ({
        ...this.base(id, this.spanId, started, ended),
        name: `chat ${req.model}`,
        kind: 'model',
        status: res ? 'ok' : 'error',
        ...(res ? {} : { status_message: messageOf(err) }),
        model: res?.model ?? req.model,
        ...(res
          ? {
              input_tokens: res.usage.inputTokens,
              output_tokens: res.usage.outputTokens,
              total_tokens: res.usage.totalTokens,
              cost: res.costUsdDecimal ?? res.costUsd.toFixed(12),
            }
          : {}),
        input: bounded({
          ...(req.system !== undefined ? { system: req.system } : {}),
          ...(messages?.length ? { messages } : {}),
          ...(req.prompt !== undefined ? { prompt: req.prompt } : {}),
        }),
        output: bounded(res ? (res.output !== undefined ? res.output : res.text) : undefined),
        attributes: modelAttributes(req, res, err),
      }),
    });
  }

  private toolSpan(
    spanId: string,
    parent: string,
    name: string,
    started: Date,
    input: unknown,
    output: unknown,
    err?: unknown,
  ) {
    const mcp = isMcp(name);
    const record: SpanRecord = {
      ...this.base(spanId, parent, started, new Date()),
      name: `execute_tool ${name}`,
      kind: mcp ? 'mcp' : 'tool',
      status: err === undefined ? 'ok' : 'error',
      ...(err === undefined ? {} : { status_message: messageOf(err) }),
      input: bounded(input),
      output: bounded(output),
      attributes: {
        'gen_ai.operation.name': 'execute_tool',
        'gen_ai.tool.name': name,
        ...(err === undefined ? {} : errorAttributes(err)),
      },
    };
    this.spans.push({ kind: record.kind, status: record.status, record: () => record });
  }

  private base(spanId: string, parent: string, started: Date, ended: Date) {
    return {
      run_id: this.step.runId,
      step_id: this.step.stepId,
      attempt: this.step.attempt,
      node_id: this.step.nodeId,
      span_id: spanId,
      parent_span_id: parent,
      start_time: started.toISOString(),
      end_time: ended.toISOString(),
      duration_ms: ended.getTime() - started.getTime(),
    };
  }

  /**
   * The attempt's own span, and the lines of a waiting attempt, from how it ended, with everything collected
   * while it ran. An attempt that ended (completed, failed, cancelled) has an attempt row, from which its
   * "started" and "completed/failed/cancelled" lines are derived when read (`runLogLines`,
   * lifecycle-lines.ts): they are not stored. A waiting attempt has no attempt row yet, so its two lines are
   * stored.
   */
  records(o: StepOutcome): Recorded {
    if (this.recorded) return this.recorded;
    const node = `${o.nodeType} ${o.step.nodeId}`;
    const at = (d: Date) => d.toISOString();
    if (o.kind === 'waiting') {
      const started: LogRecord = {
        run_id: o.step.runId,
        step_id: o.step.stepId,
        attempt: o.step.attempt,
        node_id: o.step.nodeId,
        level: 'info',
        message: `Step ${node} started (attempt ${o.step.attempt})`,
        span_id: this.spanId,
        at: at(o.startedAt),
      };
      const kind = String(o.wait?.kind ?? 'wait');
      this.logs.unshift(started);
      this.logs.push({
        ...started,
        message:
          kind === 'approval'
            ? `Step ${node} waits for approval`
            : kind === 'subworkflow'
              ? `Step ${node} waits for sub-workflow run ${String(o.wait?.runId ?? '')}`.trimEnd()
              : `Step ${node} waits (${kind})`,
        ...(o.wakeAt ? { context: { wakeAt: o.wakeAt.toISOString() } } : {}),
        at: at(o.finishedAt),
      });
    }
    // What the attempt row already says is not stored again: the step's span, and the model call of a step
    // that made exactly one, successful and without tools (`runTrace` derives both, with the same ids).
    // Their records are built only for the OpenTelemetry export.
    const only = this.spans.length === 1 ? this.spans[0]! : undefined;
    const derived = only?.kind === 'model' && only.status === 'ok' ? only : undefined;
    const stored = derived ? [] : this.spans.map((c) => c.record());
    const spans = () => [
      stepSpanRecord(o, this.spanId),
      ...(derived ? [derived.record(modelSpanId(o.step.stepId, o.step.attempt))] : stored),
    ];
    this.recorded = { logs: this.logs, stored, spans };
    return this.recorded;
  }
}

/** The step attempt's own span, from how it ended (only exported: the attempt row stands for it). */
function stepSpanRecord(o: StepOutcome, spanId: string): SpanRecord {
  const childRunId = o.wait?.kind === 'subworkflow' ? o.wait.runId : undefined;
  return {
    run_id: o.step.runId,
    step_id: o.step.stepId,
    attempt: o.step.attempt,
    node_id: o.step.nodeId,
    span_id: spanId,
    parent_span_id: runSpanId(o.step.runId),
    name: `${o.nodeType} ${o.step.nodeId}`,
    kind: o.nodeType === 'subworkflow' ? 'subworkflow' : 'step',
    status: o.kind === 'completed' ? 'ok' : o.kind === 'failed' ? 'error' : 'unset',
    ...(o.error ? { status_message: o.error.message } : {}),
    start_time: o.startedAt.toISOString(),
    end_time: o.finishedAt.toISOString(),
    duration_ms: o.finishedAt.getTime() - o.startedAt.getTime(),
    ...(o.model ? { model: o.model } : {}),
    ...(o.usage
      ? {
          input_tokens: o.usage.inputTokens,
          output_tokens: o.usage.outputTokens,
          total_tokens: o.usage.totalTokens,
        }
      : {}),
    ...(o.cost ? { cost: o.cost } : {}),
    attributes: {
      'aiops.node.type': o.nodeType,
      'aiops.step.attempt': o.step.attempt,
      'aiops.step.outcome': o.kind,
      ...(o.error ? { 'error.type': o.error.code } : {}),
      ...(o.retryDelayMs !== undefined ? { 'aiops.retry_delay_ms': o.retryDelayMs } : {}),
      ...(typeof childRunId === 'string' ? { 'aiops.child_run_id': childRunId } : {}),
      ...(o.agentId ? { 'aiops.agent.id': o.agentId, 'aiops.agent.version': o.agentVersion } : {}),
    },
  };
}

const messageOf = (e: unknown) => (e instanceof Error ? e.message : String(e)).slice(0, 2_000);

function errorContext(e: unknown): Record<string, unknown> {
  return isAppError(e) ? { code: e.code, retryable: e.retryable } : { code: 'error' };
}

function errorAttributes(e: unknown): Record<string, unknown> {
  return { 'error.type': isAppError(e) ? e.code : ((e as Error)?.name ?? 'Error') };
}

/** A model call's span attributes: OpenTelemetry's GenAI conventions, plus our cost and cache flag. */
function modelAttributes(
  req: ModelRequest,
  res: ModelResult | undefined,
  err: unknown,
): Record<string, unknown> {
  const provider = req.model.includes(':') ? req.model.slice(0, req.model.indexOf(':')) : req.model;
  const attributes: Record<string, unknown> = {
    'gen_ai.operation.name': 'chat',
    'gen_ai.provider.name': provider,
    'gen_ai.request.model': req.model,
    ...(req.temperature !== undefined ? { 'gen_ai.request.temperature': req.temperature } : {}),
    ...(req.topP !== undefined ? { 'gen_ai.request.top_p': req.topP } : {}),
    ...(req.maxTokens !== undefined ? { 'gen_ai.request.max_tokens': req.maxTokens } : {}),
    ...(req.tools?.length ? { 'gen_ai.request.tools': req.tools.map((t) => t.name) } : {}),
  };
  if (!res) return Object.assign(attributes, errorAttributes(err));
  return Object.assign(attributes, {
    'gen_ai.response.model': res.model,
    'gen_ai.response.finish_reasons': [res.finishReason],
    'gen_ai.usage.input_tokens': res.usage.inputTokens,
    'gen_ai.usage.output_tokens': res.usage.outputTokens,
    ...(res.usage.cachedInputTokens
      ? { 'gen_ai.usage.cached_input_tokens': res.usage.cachedInputTokens }
      : {}),
    ...(res.usage.reasoningTokens ? { 'gen_ai.usage.reasoning_tokens': res.usage.reasoningTokens } : {}),
    'aiops.usage.estimated': res.usage.estimated,
    'aiops.cost_usd': res.costUsdDecimal ?? String(res.costUsd),
    'aiops.cached': res.cached,
    ...(res.toolCalls.length ? { 'aiops.tool_calls': res.toolCalls.length } : {}),
  });
}
