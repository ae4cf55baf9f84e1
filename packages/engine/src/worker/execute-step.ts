import { AppError, type ConditionError, isAppError, renderValue } from '@aiops/core';
import type { CompiledVersion } from '../catalog.ts';
import type { ClaimedStep } from '../sql/claim-steps.ts';
import type { StepOutcome } from '../sql/complete-steps.ts';
import { runAgent } from './nodes/agent.ts';
import { runCode } from './nodes/code.ts';
import { runTool } from './nodes/tools.ts';
import type { NodeResult, StepContext } from './nodes/types.ts';
import { runApproval, runDelay, runSubworkflow } from './nodes/waits.ts';

export type { StartChild, StepContext } from './nodes/types.ts';

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
  let result: NodeResult;
  try {
    switch (node.type) {
      case 'agent':
        result = await runAgent(step, node, ctx, context);
        break;
      case 'tool':
        result = await runTool(step, node, ctx, context);
        break;
      case 'output':
        result = {
          kind: 'completed',
          input: { value: node.value },
          output: renderValue(node.value, context),
        };
        break;
      case 'approval':
        result = runApproval(step, node, ctx, context);
        break;
      case 'delay':
        result = runDelay(step, node, ctx, context);
        break;
      case 'subworkflow':
        result = await runSubworkflow(step, node, ctx, context);
        break;
      case 'code':
        result = await runCode(step, node, ctx, context);
        break;
    }
    if (result.kind === 'completed')
      result.edges = decideEdges(ctx.compiled, step.nodeId, context, result.output);
  } catch (e) {
    result = {
      kind: ctx.signal.aborted && !isTimeout(ctx.signal) ? 'cancelled' : 'failed',
      // A failed tool step still names its tool (the attempt's input, agent metrics' `tool` dimension).
      input: node.type === 'tool' ? { tool: node.tool } : {},
      error: describe(e, ctx.signal),
      // A failed agent step still names its agent (agent-scoped alert rules and agent metrics count it).
      ...(node.type === 'agent' && node.agentId
        ? { agentId: node.agentId, agentVersion: step.agentPins[node.id]?.versionNumber }
        : {}),
    };
  }
  return { ...result, step, nodeType: node.type, startedAt, finishedAt: new Date() };
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
