import type { AgentNode } from '@aiops/contracts';
import { AppError, renderValue } from '@aiops/core';
import { signedPost } from '@aiops/providers';
import type { ClaimedStep } from '../../sql/claim-steps.ts';
import type { NodeResult, StepContext } from './types.ts';

export type { ExternalAgentTarget } from './types.ts';

/** The additional data bound to an external agent's encrypted signing secret (SecretBox AAD). */
export const agentWebhookAad = (agentId: string) => `agent_webhook:${agentId}`;

/** The most an external agent's answer may be. */
export const EXTERNAL_MAX_RESPONSE_BYTES = 1024 * 1024;
/** How long a call may take when the step sets no timeout of its own (the step's own one applies too). */
export const EXTERNAL_DEFAULT_TIMEOUT_MS = 30_000;

/** The body an external agent receives as a workflow step. */
export function externalStepBody(step: ClaimedStep, agentId: string, input: unknown) {
  return {
    type: 'agent.step',
    agentId,
    runId: step.runId,
    stepId: step.stepId,
    nodeId: step.nodeId,
    attempt: step.attempt,
    correlationId: step.correlationId,
    input,
  };
}

const parse = (text: string, contentType: string | undefined): unknown => {
  const trimmed = text.trim();
  if (!trimmed) return null;
  if (!contentType?.includes('json') && !/^[[{"]/.test(trimmed)) return text;
  try {
    return JSON.parse(trimmed);
  } catch {
    return text;
  }
};

/**
 * A saved agent of kind `external` is reached through its `webhook_url`, never run as a model call: a
 * Standard Webhooks-signed JSON POST (`webhook-id` is the step id and attempt) through the organization's
 * outbound policy, carrying the step's input (its `vars` rendered, else the run's input). A 2xx answer is
 * the step's output (JSON, or else its text; at most 1 MB); a 4xx answer fails the step for good; a 5xx
 * answer, a timeout or a connection error fails it retryably (the node's retry policy applies).
 */
export async function runExternalAgent(
  step: ClaimedStep,
  node: AgentNode,
  ctx: StepContext,
  context: Record<string, unknown>,
  identity: Record<string, unknown>,
): Promise<NodeResult> {
  const agentId = node.agentId!;
  if (node.forEach !== undefined) {
    throw new AppError(
      422,
      'external_agent_for_each',
      'an external agent is called once per step: remove forEach',
      {
        retryable: false,
      },
    );
  }
  const target = await ctx.externalAgent(step.organizationId, agentId);
  if (!target?.webhookUrl) {
    throw new AppError(
      422,
      'agent_not_reachable',
      `agent ${agentId} is external but has no webhook_url: set one (PUT /api/v1/agents/${agentId}/schedule or the agent's webhookUrl)`,
      { retryable: false, details: { agentId } },
    );
  }
  const input = node.vars ? renderValue(node.vars, context) : context.input;
  const body = JSON.stringify(externalStepBody(step, agentId, input));
  const started = performance.now();
  const res = await signedPost({
    url: target.webhookUrl,
    id: `${step.stepId}_${step.attempt}`,
    body,
    secrets: target.secret ? [target.secret] : [],
    policy: await ctx.network(step.organizationId),
    timeoutMs: EXTERNAL_DEFAULT_TIMEOUT_MS,
    signal: ctx.signal,
    maxResponseBytes: EXTERNAL_MAX_RESPONSE_BYTES,
    userAgent: 'aiops-studio-agent-steps/1',
  });
  const latencyMs = Math.round((performance.now() - started) * 100) / 100;
  const host = new URL(target.webhookUrl).host;
  const trace = { status: res.code, latencyMs, host, signed: target.secret !== null };
  ctx.observer?.log(
    res.error || res.tooLarge ? 'error' : 'info',
    res.code === null
      ? `External agent ${target.name} at ${host}: no answer after ${latencyMs} ms (${res.error})`
      : `External agent ${target.name} at ${host} answered HTTP ${res.code} in ${latencyMs} ms`,
    trace,
  );
  const details = { agentId, ...trace };
  if (res.code === null) {
    if (ctx.signal.aborted) throw ctx.signal.reason ?? new Error('aborted');
    if (res.blocked) {
      throw new AppError(403, 'address_blocked', `external agent ${agentId}: ${res.error}`, {
        retryable: false,
        details,
      });
    }
    throw new AppError(
      504,
      res.timedOut ? 'external_agent_timeout' : 'external_agent_unreachable',
      res.timedOut
        ? `external agent ${agentId} did not answer within ${EXTERNAL_DEFAULT_TIMEOUT_MS} ms`
        : `external agent ${agentId} could not be reached: ${res.error}`,
      { retryable: true, details },
    );
  }
  if (res.code >= 300) {
    const permanent = res.code < 500;
    throw new AppError(
      502,
      permanent ? 'external_agent_rejected' : 'external_agent_error',
      `external agent ${agentId} answered HTTP ${res.code}${permanent ? ' (not retried: fix the request or the agent)' : ''}`,
      { retryable: !permanent, details },
    );
  }
  if (res.tooLarge) {
    throw new AppError(
      502,
      'external_response_too_large',
      `external agent ${agentId} answered more than ${EXTERNAL_MAX_RESPONSE_BYTES} bytes`,
      { retryable: false, details },
    );
  }
  return {
    kind: 'completed',
    input: { webhook: host, input },
    output: parse(res.body ?? '', res.contentType),
    trace,
    ...identity,
  };
}
