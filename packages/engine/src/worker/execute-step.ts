import type { AgentNode, WorkflowNode } from '@aiops/contracts';
import {
  AppError,
  type ConditionError,
  isAppError,
  type ModelPort,
  renderString,
  renderValue,
} from '@aiops/core';
import type { AgentConfiguration } from '@aiops/db';
import type { CompiledVersion } from '../catalog.ts';
import type { ClaimedStep } from '../sql/claim-steps.ts';
import type { StepOutcome } from '../sql/complete-steps.ts';

/** What executing a node needs besides the step itself. */
export interface StepContext {
  compiled: CompiledVersion;
  /** Outputs of the nodes this node reads, by node id. */
  outputs: Record<string, unknown>;
  /** The pinned agent configuration, for agent nodes that reference an org agent. */
  agent?: AgentConfiguration;
  model: ModelPort;
  signal: AbortSignal;
}

type Result = Omit<StepOutcome, 'step' | 'startedAt' | 'finishedAt' | 'retryDelayMs' | 'nodeType'>;

/** Runs one node and says how it ended. Never throws: failures become `failed` outcomes. */
export async function executeStep(step: ClaimedStep, ctx: StepContext): Promise<StepOutcome> {
  const node = ctx.compiled.graph.nodes.get(step.nodeId)!;
  const startedAt = new Date();
  const context: Record<string, unknown> = {
    input: step.input,
    variables: ctx.compiled.graph.definition.variables ?? {},
    nodes: Object.fromEntries(Object.entries(ctx.outputs).map(([id, output]) => [id, { output }])),
    run: { id: step.runId, correlationId: step.correlationId, attempt: step.attempt },
  };
  let result: Result;
  try {
    result = node.type === 'agent' ? await runAgent(step, node, ctx, context) : runOutput(node, context);
    if (result.kind === 'completed')
      result.edges = decideEdges(ctx.compiled, step.nodeId, context, result.output);
  } catch (e) {
    result = {
      kind: ctx.signal.aborted && !isTimeout(ctx.signal) ? 'cancelled' : 'failed',
      input: {},
      error: describe(e, ctx.signal),
    };
  }
  return { ...result, step, nodeType: node.type, startedAt, finishedAt: new Date() };
}

function runOutput(
  node: Extract<WorkflowNode, { type: 'output' }>,
  context: Record<string, unknown>,
): Result {
  const output = renderValue(node.value, context);
  return { kind: 'completed', input: { value: node.value }, output };
}

async function runAgent(
  step: ClaimedStep,
  node: AgentNode,
  ctx: StepContext,
  context: Record<string, unknown>,
): Promise<Result> {
  const a = node.agent;
  const cfg = ctx.agent;
  const settings = a
    ? {
        model: a.model,
        system: a.system,
        prompt: a.prompt,
        output: a.output,
        temperature: a.temperature,
        topP: a.topP,
        maxTokens: a.maxTokens,
        integrationId: a.integrationId,
        simulate: a.simulate,
      }
    : {
        model: cfg!.modelSettings.model,
        system: cfg!.systemPrompt,
        prompt: cfg!.promptTemplate,
        output: cfg!.outputSchema,
        temperature: cfg!.modelSettings.temperature,
        topP: cfg!.modelSettings.topP,
        maxTokens: cfg!.modelSettings.maxTokens,
        integrationId: cfg!.integrationId,
        simulate: cfg!.simulate,
      };
  if (node.vars) context.vars = renderValue(node.vars, context);
  const system = settings.system === undefined ? undefined : asText(renderString(settings.system, context));
  const prompt = asText(renderString(settings.prompt, context));
  const input = {
    model: settings.model,
    ...(system !== undefined ? { system } : {}),
    prompt,
    ...(settings.temperature !== undefined ? { temperature: settings.temperature } : {}),
    ...(settings.topP !== undefined ? { topP: settings.topP } : {}),
    ...(settings.maxTokens !== undefined ? { maxTokens: settings.maxTokens } : {}),
  };
  const res = await ctx.model.call({
    ...input,
    ...(settings.output ? { outputSchema: settings.output } : {}),
    ...(settings.integrationId ? { integrationId: settings.integrationId } : {}),
    ...(settings.simulate ? { simulate: settings.simulate as never } : {}),
    attempt: step.attempt,
    idempotencyKey: `${step.runId}:${step.nodeId}:${step.attempt}`,
    organizationId: step.organizationId,
    signal: ctx.signal,
  });
  return {
    kind: 'completed',
    input,
    output: res.output !== undefined ? res.output : res.text,
    model: res.model,
    usage: res.usage,
    cost: res.costUsd ? res.costUsd.toFixed(6) : '0',
    cached: res.cached,
    ...(node.agentId ? { agentId: node.agentId, agentVersion: step.agentPins[node.id]?.versionNumber } : {}),
  };
}

function asText(v: unknown): string {
  if (v === null || v === undefined) return '';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** Evaluates the node's outgoing connections against its output. A condition error fails the step. */
function decideEdges(
  compiled: CompiledVersion,
  nodeId: string,
  context: Record<string, unknown>,
  output: unknown,
) {
  const nodes = { ...(context.nodes as Record<string, unknown>), [nodeId]: { output } };
  const withSelf = { ...context, nodes };
  return compiled.graph.outgoing.get(nodeId)!.map((e) => {
    if (!e.compiled) return { to: e.to, live: true };
    try {
      return { to: e.to, live: e.compiled(withSelf) };
    } catch (err) {
      throw new AppError(
        422,
        'condition_error',
        `Condition of ${e.from} → ${e.to} failed: ${(err as ConditionError).message}`,
        {
          retryable: false,
        },
      );
    }
  });
}

function isTimeout(signal: AbortSignal): boolean {
  return (signal.reason as Error | undefined)?.name === 'TimeoutError';
}

function describe(e: unknown, signal: AbortSignal): NonNullable<StepOutcome['error']> {
  if (signal.aborted && isTimeout(signal)) {
    return { code: 'step_timeout', message: 'The step exceeded its timeout', retryable: true };
  }
  if (isAppError(e)) {
    return {
      code: e.code,
      message: e.message,
      retryable: e.retryable,
      ...(e.details ? { details: e.details } : {}),
    };
  }
  if (signal.aborted) return { code: 'cancelled', message: 'The run was stopped', retryable: false };
  return { code: 'step_error', message: (e as Error)?.message ?? String(e), retryable: true };
}
