import type { ApprovalNode, DelayNode, SubworkflowNode } from '@aiops/contracts';
import { AppError, renderString, renderValue } from '@aiops/core';
import type { ClaimedStep } from '../../sql/claim-steps.ts';
import type { NodeResult, StepContext } from './types.ts';

/**
 * Nodes that wait without holding a worker. The first execution records what the step waits for and ends
 * (`waiting`); when the wait is over (a decision, the child run's end, the due time) the step is ready
 * again with `wait.resumed`, and the second execution completes it.
 */
export function runApproval(
  step: ClaimedStep,
  node: ApprovalNode,
  ctx: StepContext,
  context: Record<string, unknown>,
): NodeResult {
  const decision = step.wait?.decision as
    | { approved: boolean; comment?: string; decidedBy?: string; decidedAt?: string; timedOut?: boolean }
    | undefined;
  if (!decision) {
    const message = node.message === undefined ? undefined : renderString(node.message, context);
    const wakeAt = node.timeoutMs ? new Date(ctx.now().getTime() + node.timeoutMs) : undefined;
    return {
      kind: 'waiting',
      input: { message },
      wait: {
        kind: 'approval',
        message: message ?? null,
        requestedAt: ctx.now().toISOString(),
        ...(wakeAt
          ? { deadline: wakeAt.toISOString(), defaultDecision: node.defaultDecision ?? 'rejected' }
          : {}),
      },
      ...(wakeAt ? { wakeAt } : {}),
    };
  }
  const output = {
    approved: decision.approved,
    comment: decision.comment ?? null,
    decidedBy: decision.decidedBy ?? null,
    decidedAt: decision.decidedAt ?? null,
    timedOut: decision.timedOut ?? false,
  };
  if (!decision.approved && (node.onReject ?? 'fail') === 'fail') {
    throw new AppError(
      409,
      'approval_rejected',
      `Approval ${node.id} was rejected${decision.timedOut ? ' (no decision before the deadline)' : ''}${decision.comment ? `: ${decision.comment}` : ''}`,
      {
        retryable: false,
        details: output,
      },
    );
  }
  return { kind: 'completed', input: { message: step.wait?.message ?? null }, output };
}

export function runDelay(
  step: ClaimedStep,
  node: DelayNode,
  ctx: StepContext,
  context: Record<string, unknown>,
): NodeResult {
  const due = typeof step.wait?.due === 'string' ? new Date(step.wait.due) : undefined;
  if (due && step.wait?.resumed) {
    return {
      kind: 'completed',
      input: { due: due.toISOString() },
      output: { waitedUntil: due.toISOString() },
    };
  }
  let until: Date;
  if (node.until !== undefined) {
    const raw = renderString(node.until, context);
    until = new Date(String(raw));
    if (Number.isNaN(until.getTime())) {
      throw new AppError(422, 'bad_delay', `until of ${node.id} is not a time: ${JSON.stringify(raw)}`, {
        retryable: false,
      });
    }
  } else {
    until = new Date(ctx.now().getTime() + (node.durationMs ?? 0));
  }
  if (until <= ctx.now())
    return {
      kind: 'completed',
      input: { due: until.toISOString() },
      output: { waitedUntil: until.toISOString() },
    };
  return {
    kind: 'waiting',
    input: { due: until.toISOString() },
    wait: { kind: 'delay', due: until.toISOString() },
    wakeAt: until,
  };
}

export async function runSubworkflow(
  step: ClaimedStep,
  node: SubworkflowNode,
  ctx: StepContext,
  context: Record<string, unknown>,
): Promise<NodeResult> {
  const child = step.wait?.child as
    | { runId: string; status: string; output: unknown; error?: { code: string; message: string } | null }
    | undefined;
  if (child && step.wait?.resumed) {
    if (child.status !== 'completed') {
      throw new AppError(
        409,
        'subworkflow_failed',
        `Sub-workflow run ${child.runId} ended ${child.status}${child.error ? `: ${child.error.message}` : ''}`,
        {
          retryable: false,
          details: { runId: child.runId, status: child.status },
        },
      );
    }
    return {
      kind: 'completed',
      input: { workflowId: node.workflowId, runId: child.runId },
      output: child.output,
    };
  }
  if (step.depth + 1 > ctx.maxDepth) {
    throw new AppError(
      422,
      'subworkflow_depth_exceeded',
      `Sub-workflows nest at most ${ctx.maxDepth} deep; ${node.id} would start level ${step.depth + 1}`,
      {
        retryable: false,
      },
    );
  }
  const input = node.input === undefined ? {} : renderValue(node.input, context);
  const { runId } = await ctx.startChild(step, {
    workflowId: node.workflowId,
    ...(node.version ? { version: node.version } : {}),
    input,
  });
  return {
    kind: 'waiting',
    input: { workflowId: node.workflowId, input },
    wait: { kind: 'subworkflow', runId },
  };
}
