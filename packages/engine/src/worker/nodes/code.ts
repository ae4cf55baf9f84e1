import type { CodeNode } from '@aiops/contracts';
import { AppError } from '@aiops/core';
import { type CodeSource, runCodeSource } from '../../code/run-code.ts';
import type { CodeRunResult } from '../../code/sandbox.ts';
import type { ClaimedStep } from '../../sql/claim-steps.ts';
import type { NodeResult, StepContext } from './types.ts';

/**
 * Runs code (a code node's, or a code agent's) in the sandbox with the organization's tier limits. Its
 * console lines go to the step's execution logs; a failure becomes the step's error, with the sandbox's
 * code (`code_timeout`, `code_memory_exceeded`, `code_error`, … none retryable but a crashed thread's).
 */
export async function runCodeStep(
  step: ClaimedStep,
  source: CodeSource,
  ctx: StepContext,
  context: Record<string, unknown>,
): Promise<{ output: unknown; result: CodeRunResult }> {
  const limits = await ctx.code.limits(step.organizationId);
  const result = await runCodeSource(source, {
    sandbox: ctx.code.sandbox,
    limits,
    policy: () => ctx.network(step.organizationId),
    input: context.input,
    nodes: context.nodes as Record<string, unknown>,
    variables: context.variables as Record<string, unknown>,
    signal: ctx.signal,
  });
  for (const line of result.logs) ctx.observer?.log(line.level, line.message, { source: 'console' });
  const usage = {
    durationMs: Math.round(result.durationMs * 100) / 100,
    cpuMs: Math.round(result.cpuMs * 100) / 100,
    memoryBytes: result.memoryBytes,
  };
  ctx.observer?.log(
    result.ok ? 'info' : 'error',
    result.ok
      ? `Code ran in ${usage.durationMs} ms (CPU ${usage.cpuMs} ms, ${usage.memoryBytes} bytes of memory)`
      : `Code failed (${result.error.code}): ${result.error.message}`,
    { ...usage, limits },
  );
  if (!result.ok) {
    const status =
      result.error.code === 'code_timeout' ? 408 : result.error.code === 'code_memory_exceeded' ? 413 : 422;
    throw new AppError(status, result.error.code, result.error.message, {
      retryable: result.error.retryable,
      details: { ...(result.error.details ?? {}), ...usage },
    });
  }
  return { output: result.output, result };
}

export async function runCode(
  step: ClaimedStep,
  node: CodeNode,
  ctx: StepContext,
  context: Record<string, unknown>,
): Promise<NodeResult> {
  const { output } = await runCodeStep(step, node, ctx, context);
  return { kind: 'completed', input: { language: node.language }, output };
}
