import type { RunDto } from '@aiops/contracts';
import type { AttemptRow, CompiledVersion, RunRow, StepRow } from '@aiops/engine';

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function runDto(r: RunRow): RunDto {
  return {
    id: r.id,
    workflowId: r.workflowId,
    workflowVersion: r.workflowVersion,
    status: r.status as RunDto['status'],
    // A failed run's reason is its error: said once, in `error`.
    statusReason:
      r.errorCode && (r.errorMessage ?? r.statusReason) === r.statusReason ? null : r.statusReason,
    error: r.errorCode
      ? { code: r.errorCode, message: r.errorMessage ?? r.statusReason ?? r.errorCode }
      : null,
    triggeredBy: r.triggeredBy,
    triggeredByUserId: r.triggeredByUserId,
    triggeredByApiKeyId: r.triggeredByApiKeyId,
    externalTriggerId: r.externalTriggerId,
    input: r.inputData,
    output: r.outputData ?? null,
    correlationId: r.correlationId,
    parentExecutionId: r.parentExecutionId,
    rerunOfExecutionId: r.rerunOfExecutionId,
    stepsTotal: r.stepsTotal,
    stepsCompleted: r.stepsCompleted,
    tokens: {
      input: Number(r.inputTokens),
      output: Number(r.outputTokens),
      total: Number(r.totalTokensUsed),
    },
    cost: Number(r.estimatedCost),
    createdAt: r.createdAt.toISOString(),
    startedAt: iso(r.startedAt),
    completedAt: iso(r.completedAt),
    durationMs: r.durationMs,
    metadata: r.metadata,
  };
}

export function attemptDto(a: AttemptRow) {
  return {
    id: a.id,
    attempt: a.attempt,
    status: a.status,
    statusReason: a.errorDetails?.message === a.statusReason ? null : a.statusReason,
    input: a.input,
    output: a.output ?? null,
    model: a.model,
    error: a.errorDetails,
    tokens: {
      input: a.inputTokens,
      output: a.outputTokens,
      cachedInput: a.cachedInputTokens,
      reasoning: a.reasoningTokens,
      total: a.totalTokens,
      estimated: a.tokensEstimated,
    },
    cost: Number(a.estimatedCost),
    cached: a.cached,
    startedAt: iso(a.startedAt),
    completedAt: iso(a.completedAt),
    durationMs: a.durationMs,
    workerId: a.workerId,
  };
}

/** The run with its steps in the definition's order, each with its attempts. */
export function runDetailDto(
  run: RunRow,
  steps: StepRow[],
  attempts: AttemptRow[],
  compiled?: CompiledVersion,
) {
  const byNode = new Map<string, AttemptRow[]>();
  for (const a of attempts) byNode.set(a.nodeId, [...(byNode.get(a.nodeId) ?? []), a]);
  const order = compiled?.graph.order ?? [];
  const rank = (id: string) => {
    const i = order.indexOf(id);
    return i === -1 ? order.length : i;
  };
  return {
    ...runDto(run),
    steps: [...steps]
      .sort((a, b) => rank(a.nodeId) - rank(b.nodeId) || a.nodeId.localeCompare(b.nodeId))
      .map((s) => ({
        nodeId: s.nodeId,
        nodeType:
          compiled?.graph.nodes.get(s.nodeId)?.type ?? byNode.get(s.nodeId)?.[0]?.nodeType ?? 'unknown',
        status: s.status as 'pending',
        attempts: (byNode.get(s.nodeId) ?? []).sort((a, b) => a.attempt - b.attempt).map(attemptDto),
        output: s.output ?? null,
        error: s.error,
        startedAt: iso(s.startedAt),
        completedAt: iso(s.completedAt),
      })),
  };
}
